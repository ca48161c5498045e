/**
 * Servers under test: launching one, knowing when it is ready, stopping it.
 * What to launch is described in `contenders.ts`.
 *
 * @module
 */

import { pinned } from "./pinning.ts";

/** One server under test, described before it runs. */
export interface Contender {
  label: string;
  /** The summary column its headline goes in (see `contenders.ts`); none keeps it out. */
  column?: string;
  argv(port: number): string[];
  env?: Record<string, string>;
  /**
   * Why it cannot run here: a binary missing, a flag this Starlight rejects. Asked before each
   * launch (answers are cached where asking is slow); the report shows the reason.
   */
  unavailable?(): Promise<string | undefined>;
}

/** A launched contender. */
export interface Server {
  label: string;
  port: number;
  pid: number;
  /** Milliseconds from spawning to ready (see `LaunchOptions.ready`). */
  readyMs: number;
  /** Resolves when the process has exited. */
  exited: Promise<Deno.CommandStatus>;
  /** Sends a signal; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface LaunchOptions {
  /** A fixed port, e.g. to start an instance again where it was; default: the next free one. */
  port?: number;
  /**
   * When the server counts as ready: "accept" once its port accepts a connection (default),
   * "response" once `GET /` is answered with a 2xx (time to first response).
   */
  ready?: "accept" | "response";
}

const live = new Set<Deno.ChildProcess>();
const repoRoot = new URL("../../", import.meta.url).pathname;
// Ports below Linux's ephemeral range (32768+), so no client socket can take one first, and away
// from the 8000s and 18000s that other tools and people here tend to use.
let nextPort = 29080;

/** Starts `contender` on `cores` and resolves once it is ready; throws the reason if not. */
export async function launch(
  contender: Contender,
  cores: string,
  options: LaunchOptions = {},
): Promise<Server> {
  const missing = await contender.unavailable?.();
  if (missing) throw new Error(missing);
  const port = options.port ?? freePort();
  const [cmd, ...args] = pinned(cores, contender.argv(port));
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd: repoRoot,
    env: { NO_COLOR: "1", ...contender.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const stderr = tail(child.stderr);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    live.delete(child);
    return s;
  });
  const server: Server = {
    label: contender.label,
    port,
    pid: child.pid,
    readyMs: NaN,
    exited: status,
    signal(signal) {
      if (exited) return false;
      try {
        child.kill(signal);
        return true;
      } catch {
        return false;
      }
    },
    stop: (graceMs = 3000) => stop(child, graceMs),
  };

  const probe = options.ready === "response" ? answers : accepts;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    if (await probe(port)) {
      server.readyMs = performance.now() - started;
      return server;
    }
    await new Promise((r) => setTimeout(r, options.ready === "response" ? 5 : 50));
  }
  await server.stop();
  // The last lines may still be in the pipe when the process is already gone.
  await Promise.race([stderr.closed, new Promise((r) => setTimeout(r, 500))]);
  throw new Error(
    reason(stderr.text()) || (exited ? "exited before listening" : "did not listen within 20 s"),
  );
}

/**
 * The line of a dying server's stderr that says why: its error message (`error: …`,
 * `starlight: …`, `TypeError: …`), not a stack frame or the usage line.
 */
export function reason(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("at "));
  const why = lines.find((l) => /^(error|starlight|haproxy|bun)\b:?|^\w*Error\b/i.test(l));
  return (why ?? lines.at(-1))?.slice(0, 160);
}

/** Stops every server still running, for an interrupted run. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stop(child, 3000)));
}

async function stop(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  if (!live.has(child)) return;
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  kill("SIGTERM");
  // Graceful shutdown may wait on open connections; the bench has no reason to.
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  await child.status;
  clearTimeout(timer);
  live.delete(child);
}

/** The next port that can be bound now. */
export function freePort(): number {
  for (;; nextPort++) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port: nextPort }).close();
      return nextPort++;
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
}

/** Whether the port accepts a TCP connection now. */
export async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `GET /` on the port is answered with a 2xx within a second. A raw request with
 * `Connection: close`, so no pooled connection is left behind to hold up a graceful stop.
 */
async function answers(port: number): Promise<boolean> {
  let conn: Deno.Conn | undefined;
  const timer = setTimeout(() => conn?.close(), 1000);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    );
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    return n !== null && /^HTTP\/1\.[01] 2/.test(new TextDecoder().decode(buffer.subarray(0, n)));
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed by the timer.
    }
  }
}

/** Keeps reading `stream` so the child never blocks on a full pipe, keeping its last 4 KiB. */
function tail(stream: ReadableStream<Uint8Array>): { text(): string; closed: Promise<void> } {
  let text = "";
  const closed = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-4096);
    }
  })().catch(() => {});
  return { text: () => text, closed };
}
