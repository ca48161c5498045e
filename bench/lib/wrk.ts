/**
 * Runs wrk and reads its report.
 *
 * @module
 */

import { pinned } from "./pinning.ts";

/** What wrk sends: always to 127.0.0.1, one thread unless told. */
export interface Load {
  connections: number;
  threads?: number;
  /** A file in bench/, such as `pipeline.lua`. */
  script?: string;
  scriptArgs?: string[];
  headers?: string[];
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

const benchDir = new URL("../", import.meta.url).pathname;

/** wrk's version line, or undefined when it is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await new Deno.Command("wrk", { args: ["--version"] }).output();
    return new TextDecoder().decode(stdout).split("\n")[0].split(" Copyright")[0].trim();
  } catch {
    return undefined;
  }
}

export async function runWrk(
  port: number,
  load: Load,
  seconds: number,
  cores: string,
): Promise<WrkResult> {
  const args = [
    `-t${load.threads ?? 1}`,
    `-c${load.connections}`,
    `-d${seconds}s`,
    "--latency",
    ...(load.headers ?? []).flatMap((h) => ["-H", h]),
    ...(load.script ? ["-s", benchDir + load.script] : []),
    `http://127.0.0.1:${port}/`,
    ...(load.scriptArgs?.length ? ["--", ...load.scriptArgs] : []),
  ];
  const [cmd, ...rest] = pinned(cores, ["wrk", ...args]);
  // wrk stops itself after `seconds`; the signal only guards against a wedged run.
  const output = await new Deno.Command(cmd, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((seconds + 15) * 1000),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success || !/Requests\/sec:/.test(text)) {
    const why = new TextDecoder().decode(output.stderr).trim() || text.trim();
    throw new Error(`wrk failed: ${why.split("\n").at(-1) || `exit ${output.code}`}`);
  }
  return parse(text);
}

function parse(text: string): WrkResult {
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: Number(text.match(/(\d+) requests in/)?.[1] ?? 0),
    rps: Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    p50Ms: percentile(text, "50%"),
    p99Ms: percentile(text, "99%"),
    // wrk prints these two lines only when something went wrong.
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    non2xx: Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
  };
}

const toMs = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 } as const;

/** NaN when absent, and for wrk's occasional 0 under pipelining, which is a histogram glitch. */
function percentile(text: string, label: string): number {
  const match = text.match(new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s|m)$`, "m"));
  const ms = match ? Number(match[1]) * toMs[match[2] as keyof typeof toMs] : 0;
  return ms > 0 ? ms : NaN;
}
