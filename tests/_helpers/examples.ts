/**
 * Small helpers shared by the examples, remote URL, proxy and package tests: free ports, Debian
 * tools, bounded fetches and child process runs.
 *
 * @module
 */

import { run, type RunResult } from "./run.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The path of a Debian tool (`nginx`, `haproxy`): its `/usr/sbin` binary, which is not on every
 * user's PATH, or the first on PATH; `undefined` when there is none, and then `test` says in
 * one line that the tests needing it are skipped.
 */
export function findTool(name: string, test: string): string | undefined {
  const path = Deno.env.get("PATH") ?? "";
  const candidates = [`/usr/sbin/${name}`, ...path.split(":").map((dir) => `${dir}/${name}`)];
  for (const candidate of candidates) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // Not there.
    }
  }
  console.warn(`${test}: skipped: no ${name} binary (apt-get install -y ${name})`);
  return undefined;
}

/** `fetch` that gives up after `timeoutMs`. */
export function fetchWithin(
  input: string | URL,
  init: RequestInit = {},
  timeoutMs = 10_000,
): Promise<Response> {
  return fetch(input, { ...init, signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
}

/** An ANSI colour sequence (ESC [ … m). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * Runs `deno ARGS` to completion (killed after `timeoutMs`, default 60 s), with colours off so
 * output can be matched.
 */
export async function runDeno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const result = await run(Deno.execPath(), args, {
    ...options,
    env: { NO_COLOR: "1", ...options.env },
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  // deno prints colours on some lines even under NO_COLOR.
  return {
    code: result.code,
    stdout: result.stdout.replace(ANSI_COLOUR, ""),
    stderr: result.stderr.replace(ANSI_COLOUR, ""),
  };
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`, or throws. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms: ${error}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
