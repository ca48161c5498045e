/**
 * Runs wrk and reads its report.
 *
 * @module
 */

import { childCpu, coreCount, pinnedTimed, withoutTimes } from "./pinning.ts";

/** What wrk sends: always to 127.0.0.1, one thread unless told. */
export interface Load {
  connections: number;
  threads?: number;
  /** A file in bench/, such as `pipeline.lua`. */
  script?: string;
  scriptArgs?: string[];
  headers?: string[];
  /** The request path; default `/`. */
  path?: string;
}

export interface WrkResult {
  requests: number;
  /** How long wrk measured, from its report. */
  seconds: number;
  /**
   * wrk's own CPU as a share of the cores it had (1 = every one of its threads busy all the
   * time): near 1, wrk was the bottleneck and req/s is its ceiling, not the server's.
   */
  clientBusy: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

const benchDir = new URL("../", import.meta.url).pathname;
/** `WRK` names another wrk binary (the device run carries its own). */
const wrkPath = Deno.env.get("WRK") ?? "wrk";

/** wrk's version line, or undefined when it is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await new Deno.Command(wrkPath, { args: ["--version"] }).output();
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
    `http://127.0.0.1:${port}${load.path ?? "/"}`,
    ...(load.scriptArgs?.length ? ["--", ...load.scriptArgs] : []),
  ];
  const [cmd, ...rest] = pinnedTimed(cores, [wrkPath, ...args]);
  // wrk stops itself after `seconds`; the signal only guards against a wedged run.
  const output = await new Deno.Command(cmd, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((seconds + 15) * 1000),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success || !/Requests\/sec:/.test(text)) {
    const why = withoutTimes(stderr).trim() || text.trim();
    throw new Error(`wrk failed: ${why.split("\n").at(-1) || `exit ${output.code}`}`);
  }
  const result = parse(text);
  const threads = Math.min(load.threads ?? 1, coreCount(cores));
  result.clientBusy = childCpu(stderr) / (result.seconds || seconds) / threads;
  return result;
}

function parse(text: string): WrkResult {
  const took = text.match(/\d+ requests in ([\d.]+)(us|ms|s|m),/);
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: Number(text.match(/(\d+) requests in/)?.[1] ?? 0),
    seconds: took ? Number(took[1]) * toMs[took[2] as keyof typeof toMs] / 1000 : 0,
    clientBusy: NaN,
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
