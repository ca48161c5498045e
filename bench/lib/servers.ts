/**
 * The servers under test: how each is launched, when it is ready, and how it is stopped.
 *
 * @module
 */

import { pinned } from "./pinning.ts";

/** One server under test, described before it runs. */
export interface Contender {
  label: string;
  argv(port: number): string[];
  env?: Record<string, string>;
  /** Why it cannot run at all; the table shows it as n/a with this reason. */
  missing?: string;
}

/** A launched contender. */
export interface Server {
  label: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const deno = Deno.execPath();
/** The system Node at /usr/bin/node, else whichever is on PATH. */
export const node = exists("/usr/bin/node") ? "/usr/bin/node" : "node";
const peersDir = new URL("../peers/", import.meta.url).pathname;

/** The absolute path of `bench/apps/<name>.ts`. */
export function appPath(name: string): string {
  return new URL(`../apps/${name}.ts`, import.meta.url).pathname;
}

/** Starlight's CLI; `workers: 0` serves in the main thread, on one core. */
export function starlight(entry: string, app: string, workers: number, label?: string): Contender {
  return {
    label: label ?? (workers ? `Starlight --workers ${workers}` : "Starlight"),
    argv: (port) => [
      deno,
      "run",
      "-A",
      "--no-prompt",
      "--unstable-net",
      "--unstable-worker-options",
      entry,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      String(workers),
      "-q",
      appPath(app),
    ],
    missing: exists(entry) ? undefined : `${entry} not found`,
  };
}

export function denoServeApi(app: string): Contender {
  return {
    label: "Deno.serve",
    argv: (port) => [
      deno,
      "run",
      "-A",
      peersDir + "deno_serve.ts",
      new URL(`file://${appPath(app)}`).href,
      String(port),
    ],
  };
}

/** The `deno serve` CLI; with `jobs`, `--parallel` across that many workers. */
export function denoServeCli(app: string, jobs?: number, label?: string): Contender {
  return {
    label: label ?? (jobs ? "deno serve --parallel" : "deno serve"),
    argv: (port) => [
      deno,
      "serve",
      "-A",
      ...(jobs ? ["--parallel"] : []),
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      appPath(app),
    ],
    env: jobs ? { DENO_JOBS: String(jobs) } : undefined,
  };
}

export function nodeHttp(app: string): Contender {
  return {
    label: "node:http",
    argv: (port) => [node, peersDir + "node_http.mjs", app, String(port)],
  };
}

/** The four single-core contenders on one app, Starlight first. */
export function singleCore(starlightEntry: string, app: string): Contender[] {
  return [starlight(starlightEntry, app, 0), denoServeApi(app), denoServeCli(app), nodeHttp(app)];
}

const live = new Set<Deno.ChildProcess>();
// Ports below Linux's ephemeral range (32768+), so no client socket can take one first, and away
// from the 8000s and 18000s that other tools and people here tend to use.
let nextPort = 29080;

/** Starts `contender` on `cores` and resolves once its port accepts; throws the reason if not. */
export async function launch(contender: Contender, cores: string): Promise<Server> {
  if (contender.missing) throw new Error(contender.missing);
  const port = freePort();
  const [cmd, ...args] = pinned(cores, contender.argv(port));
  const child = new Deno.Command(cmd, {
    args,
    cwd: new URL("../../", import.meta.url).pathname,
    env: { NO_COLOR: "1", ...contender.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const stderr = tail(child.stderr);
  const server = { label: contender.label, port, pid: child.pid, stop: () => stop(child) };

  let exited = false;
  child.status.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    if (await accepts(port)) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop();
  // The last lines may still be in the pipe when the process is already gone.
  await Promise.race([stderr.closed, new Promise((r) => setTimeout(r, 500))]);
  throw new Error(
    reason(stderr.text()) || (exited ? "exited before listening" : "did not listen within 20 s"),
  );
}

/** The line of a dying server's stderr that says why: its error message, not a stack frame. */
function reason(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("at "));
  return (lines.find((l) => /^error:|^\w*Error\b/.test(l)) ?? lines.at(-1))?.slice(0, 160);
}

/** Stops every server still running, for an interrupted run. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stop));
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  if (!live.delete(child)) return;
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  kill("SIGTERM");
  // Graceful shutdown may wait on open connections; the bench has no reason to.
  const timer = setTimeout(() => kill("SIGKILL"), 3000);
  await child.status;
  clearTimeout(timer);
}

/** The next port that can be bound now. */
function freePort(): number {
  for (;; nextPort++) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port: nextPort }).close();
      return nextPort++;
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
}

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
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

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
