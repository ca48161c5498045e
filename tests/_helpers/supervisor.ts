/**
 * Helpers shared by the supervisor tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "./server.ts";
import { Client } from "./load_client.ts";

/** This directory, as a path ending in `/`. */
export const fixtures = `${repoRoot}tests/fixtures/supervisor/`;

/** The multi-purpose test app and the read grant its import of `mod.ts` needs. */
export const appArgs: string[] = [`${fixtures}app.ts`, `--allow-read=${repoRoot}`];

/** Occurrences of `pattern` in `text`. */
export function count(text: string, pattern: RegExp): number {
  const flags = pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g";
  return [...text.matchAll(new RegExp(pattern.source, flags))].length;
}

/**
 * Starts the server and waits until it handles signals. The CLI prints the banner just before
 * it installs its signal handlers; a signal sent in between gets the default action (TERM and
 * HUP kill, TTIN and TTOU suspend the process).
 */
export async function startForSignals(args: string[]): Promise<RunningServer> {
  const server = await startServer(args);
  await new Promise((resolve) => setTimeout(resolve, 150));
  return server;
}

/** Runs `body` with a server started with `args`, then stops it and expects exit code 0. */
export async function withServer(
  args: string[],
  body: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startForSignals(args);
  try {
    await body(server);
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
  } finally {
    server.kill("SIGKILL");
    await server.exited();
  }
}

/**
 * The distinct response bodies (worker ids) seen over `connections` connections opened at
 * once. Concurrent connections spread over the workers (the fair share of a shared queue, or
 * the kernel's hash), where sequential ones may all land on the worker that happens to be awake.
 */
export async function workerIds(port: number, connections = 30): Promise<Set<string>> {
  const clients = await Promise.all(
    Array.from({ length: connections }, () => Client.connect(port)),
  );
  try {
    const replies = await Promise.all(clients.map((client) => client.get("/")));
    return new Set(replies.map((reply) => reply.body));
  } finally {
    for (const client of clients) client.close();
  }
}
