/**
 * The worker entry: loads the app, opens its listeners, serves, answers heartbeats, and drains
 * when the supervisor retires it. Runs with the restricted permissions the supervisor chose.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { formatAccessLine } from "./access_log.ts";
import { AppError, loadApp } from "./app.ts";
import { DEFAULT_HEAD_LIMITS } from "./http/head.ts";
import { HttpServer } from "./http_server.ts";
import { boundSpec, openListener } from "./listen.ts";
import { setRetireHook } from "./retire.ts";
import type { FromWorker, ToWorker, WorkerConfig } from "./worker_protocol.ts";

function post(message: FromWorker): void {
  self.postMessage(message);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

let server: HttpServer | undefined;
const reported = new Set<string>();

function warn(message: string, error?: unknown): void {
  // A sandboxed app that oversteps fails the same way on every request: name it once.
  if (error instanceof Deno.errors.NotCapable) {
    if (reported.has(error.message)) return;
    reported.add(error.message);
    post({ type: "log", level: "warning", message: `permission denied to the app: ${error.message}` });
    return;
  }
  const detail = error === undefined ? "" : `: ${error instanceof Error && error.stack ? error.stack : describeError(error)}`;
  post({ type: "log", level: "warning", message: message + detail });
}

async function start(config: WorkerConfig): Promise<void> {
  let handler;
  try {
    handler = await loadApp(config.app);
  } catch (error) {
    post({ type: "failed", message: error instanceof AppError ? error.message : describeError(error) });
    return;
  }
  const http = new HttpServer({
    handler,
    timeout: config.timeout,
    headerTimeout: config.headerTimeout,
    keepaliveTimeout: config.keepaliveTimeout,
    maxKeepaliveRequests: config.maxKeepaliveRequests,
    maxRequestBody: config.maxRequestBody,
    serverSoftware: config.serverSoftware,
    development: config.development,
    limits: DEFAULT_HEAD_LIMITS,
  }, {
    warn,
    limitReached: () => post({ type: "limit" }),
    access: config.accessLog ? (entry) => post({ type: "access", line: formatAccessLine(entry) }) : undefined,
  }, config.maxRequests);
  const listeners: Deno.Listener[] = [];
  const bound = [];
  try {
    for (const spec of config.listeners) {
      const listener = openListener(spec, config.listenMode, config.tls);
      listeners.push(listener);
      bound.push(boundSpec(spec, listener));
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    post({ type: "failed", message: `cannot listen: ${describeError(error)}` });
    return;
  }
  server = http;
  setRetireHook(() => http.retireSoon());
  for (let i = 0; i < listeners.length; i++) {
    http.serve(listeners[i], config.tls !== undefined && config.listeners[i].kind === "tcp" ? "https" : "http");
  }
  post({ type: "listening", addresses: bound });
}

async function retire(deadline: number): Promise<void> {
  if (server !== undefined) {
    const timer = setTimeout(() => server?.abort(), Math.max(0, deadline - Date.now()));
    await server.drain();
    clearTimeout(timer);
  }
  post({ type: "retired" });
  self.close();
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      start(message.config);
      break;
    case "ping":
      post({ type: "pong", seq: message.seq });
      break;
    case "retire":
      retire(message.deadline);
      break;
  }
};
