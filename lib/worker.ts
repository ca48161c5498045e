/**
 * The worker entry: loads the app, opens its listeners, serves, answers heartbeats, and leaves
 * when the supervisor retires it. Runs with the restricted permissions the supervisor chose.
 *
 * Before the app is loaded, this module takes what it needs from the global scope and locks
 * it: the app shares the isolate, so it could otherwise swallow the supervisor's messages,
 * capture the TLS key by replacing `Deno.listenTls`, or end the worker without the
 * supervisor knowing. `Deno.exit()` and `self.close()` still work for the app, but tell the
 * supervisor first, so the worker is replaced at once instead of after a heartbeat timeout.
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
import { setDefaultMaxMessageSize } from "./websocket/upgrade.ts";
import type { FromWorker, RetireMode, ToWorker, WorkerConfig } from "./worker_protocol.ts";

const postToSupervisor = self.postMessage.bind(self);
const closeWorker = self.close.bind(self);
const exitWorker = Deno.exit;

function post(message: FromWorker): void {
  try {
    postToSupervisor(message);
  } catch {
    // The supervisor has already dropped this worker.
  }
}

function lock(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: false, configurable: false, enumerable: true });
}

lock(Deno, "exit", function exit(code?: number): never {
  post({ type: "exiting", reason: `the app called Deno.exit(${code ?? ""})` });
  return exitWorker(code);
});
lock(self, "close", function close(): void {
  post({ type: "exiting", reason: "the app called self.close()" });
  closeWorker();
});
lock(self, "postMessage", self.postMessage);
lock(Deno, "listen", Deno.listen);
lock(Deno, "listenTls", Deno.listenTls);

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

let server: HttpServer | undefined;
let retiring = false;
let appAsked = false;
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
  if (Number.isFinite(config.maxWsMessage)) setDefaultMaxMessageSize(config.maxWsMessage);
  let handler;
  try {
    handler = await loadApp(config.app);
  } catch (error) {
    post({ type: "failed", message: error instanceof AppError ? error.message : describeError(error) });
    return;
  }
  if (retiring) return;
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
    limitReached: () => {
      if (!retiring) post({ type: "limit", reason: appAsked ? "app" : "requests" });
    },
    access: config.accessLog ? (entry) => post({ type: "access", line: formatAccessLine(entry) }) : undefined,
  }, config.maxRequests);
  const listeners: Deno.Listener[] = [];
  try {
    for (const spec of config.listeners) {
      const listener = openListener(spec, config.listenMode, config.tls);
      listeners.push(listener);
      const bound = boundSpec(spec, listener);
      if (bound.kind === "tcp" && spec.kind === "tcp" && bound.port !== spec.port) {
        throw new Error(`listening on port ${bound.port} instead of ${spec.port}`);
      }
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    post({ type: "failed", message: `cannot listen: ${describeError(error)}` });
    return;
  }
  server = http;
  setRetireHook(() => {
    appAsked = true;
    http.retireSoon();
  });
  for (let i = 0; i < listeners.length; i++) {
    http.serve(listeners[i], config.tls !== undefined && config.listeners[i].kind === "tcp" ? "https" : "http");
  }
  post({ type: "listening" });
}

/** Resolves once `server` has no connection left, or `signal` aborts. */
function allClosed(http: HttpServer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (http.connections === 0 || signal.aborted) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, 20);
    check();
  });
}

async function retire(mode: RetireMode, deadline: number): Promise<void> {
  const http = server;
  if (http !== undefined) {
    const cut = new AbortController();
    const timer = setTimeout(() => {
      cut.abort();
      http.abort();
    }, Math.max(0, deadline - Date.now()));
    if (mode === "recycle") {
      // Every further response says `Connection: close`; idle keep-alive connections end at
      // their keep-alive timeout unless their client sends one more request first.
      http.retireSoon();
      http.stopAccepting();
      await allClosed(http, cut.signal);
    }
    await http.drain();
    clearTimeout(timer);
  }
  post({ type: "retired" });
  closeWorker();
}

self.addEventListener("message", (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      start(message.config);
      break;
    case "ping":
      post({ type: "pong", seq: message.seq });
      break;
    case "retire":
      if (message.mode === "drain" && retiring && server !== undefined) {
        // A shutdown overtakes a recycle: idle connections close now.
        server.drain();
        break;
      }
      if (retiring) break;
      retiring = true;
      retire(message.mode, message.deadline);
      break;
  }
});
