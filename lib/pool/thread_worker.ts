/**
 * The worker entry: loads the app, opens its listeners, serves, answers heartbeats, and leaves
 * when the supervisor retires it. Runs with the restricted permissions the supervisor chose.
 *
 * Before the app is loaded, this module takes what it needs from the global scope and locks
 * it: the app shares the isolate, so it could otherwise swallow the supervisor's messages,
 * replace `Deno.listen`, or end the worker without the supervisor knowing. (A worker never holds
 * the TLS key: HTTPS arrives decrypted through the TLS fronts' relay.) `Deno.exit()` and `self.close()` still work for the app, but tell the
 * supervisor first, so the worker is replaced at once instead of after a heartbeat timeout.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { formatAccessLine } from "../observe/access_log.ts";
import { AppError, loadApp } from "../app/load.ts";
import { DEFAULT_HEAD_LIMITS } from "../http/head.ts";
import { setReasonPhrases } from "../http/status.ts";
import { HttpServer } from "../engine/server.ts";
import { boundSpec, listenerScheme, openListener, sharesAcceptQueue } from "../listen/open.ts";
import { setRetireHook } from "../app/retire.ts";
import { WrappedListener } from "../listen/wrapped_listener.ts";
import { setDefaultMaxMessageSize } from "../websocket/upgrade.ts";
import {
  BALANCE_HEADER,
  type BalanceConfig,
  type FromWorker,
  type RetireMode,
  type ToWorker,
  type WorkerConfig,
} from "./protocol.ts";

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
  Object.defineProperty(target, name, {
    value,
    writable: false,
    configurable: false,
    enumerable: true,
  });
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

let crashes = 0;

/**
 * An uncaught error or unhandled rejection would end the worker with every request it is
 * serving. Instead the first one is reported with its stack and the supervisor recycles the
 * worker: it stops accepting, finishes its requests, and a fresh worker replaces it.
 */
function uncaught(kind: string, error: unknown): void {
  crashes++;
  const text = error instanceof Error
    ? (error.stack ?? describeError(error))
    : describeError(error);
  if (crashes === 1) post({ type: "crashed", reason: `${kind} ${text}` });
  else if (crashes <= 10) {
    post({ type: "log", level: "error", message: `${kind} ${text.split("\n")[0]}` });
  }
}

self.addEventListener("error", (event: ErrorEvent) => {
  event.preventDefault();
  uncaught("uncaught", event.error ?? event.message);
});
self.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  uncaught("unhandled rejection:", event.reason);
});

let server: HttpServer | undefined;
/** The accept loops; each ends once its listener is closed. */
const acceptLoops: Promise<void>[] = [];
let retiring = false;
/** Aborts when a shutdown overtakes a recycle: idle connections then close at once. */
const drainNow = new AbortController();
let appAsked = false;
const reported = new Set<string>();

function warn(message: string, error?: unknown): void {
  // A sandboxed app that oversteps fails the same way on every request: name it once.
  if (error instanceof Deno.errors.NotCapable) {
    if (reported.has(error.message)) return;
    reported.add(error.message);
    post({
      type: "log",
      level: "warning",
      message: `permission denied to the app: ${error.message}`,
    });
    return;
  }
  const detail = error === undefined
    ? ""
    : `: ${error instanceof Error && error.stack ? error.stack : describeError(error)}`;
  post({ type: "log", level: "warning", message: message + detail });
}

/** Connections a worker may hold beyond its even share before it stops accepting. */
const SHARE_SLACK = 1;

/**
 * This worker's part in sharing a load-balanced accept queue fairly (see `BalanceConfig`): it
 * publishes its live connection count and may accept while it holds no more than the average
 * plus a little. Not every worker can be above the average, so some worker always accepts.
 */
class FairShare {
  readonly #counts: Int32Array;
  readonly #cell: number;
  readonly #connections: () => number;
  readonly #timer: ReturnType<typeof setInterval>;
  #left = false;

  constructor(config: BalanceConfig, connections: () => number) {
    this.#counts = new Int32Array(config.shares);
    this.#cell = BALANCE_HEADER + config.slot;
    this.#connections = connections;
    // Connections also end while no accept is pending: keep the count fresh for the others.
    const timer = setInterval(() => this.#publish(), 50);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #publish(): number {
    const mine = this.#left ? 0 : this.#connections();
    Atomics.store(this.#counts, this.#cell, mine);
    return mine;
  }

  /** Whether this worker may take the next connection now. */
  allows(): boolean {
    const mine = this.#publish();
    const workers = Atomics.load(this.#counts, 0);
    if (workers <= 1 || this.#left) return true;
    const end = BALANCE_HEADER + Atomics.load(this.#counts, 1);
    let total = 0;
    for (let i = BALANCE_HEADER; i < end; i++) total += Atomics.load(this.#counts, i);
    return mine * workers <= total + SHARE_SLACK * workers;
  }

  /** This worker no longer accepts: its connections no longer count. */
  leave(): void {
    this.#left = true;
    clearInterval(this.#timer);
    Atomics.store(this.#counts, this.#cell, 0);
  }
}

let share: FairShare | undefined;
/** Idle limit between requests on a persistent connection (ms). */
let keepaliveTimeout = 0;

async function start(config: WorkerConfig): Promise<void> {
  if (Number.isFinite(config.maxWsMessage)) setDefaultMaxMessageSize(config.maxWsMessage);
  setReasonPhrases(config.reasonPhrases);
  let handler;
  try {
    handler = await loadApp(config.app);
  } catch (error) {
    post({
      type: "failed",
      message: error instanceof AppError ? error.message : describeError(error),
    });
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
    access: config.accessLog
      ? (entry) => post({ type: "access", line: formatAccessLine(entry) })
      : undefined,
  }, config.maxRequests);
  const listeners: Deno.Listener[] = [];
  try {
    for (const spec of config.listeners) {
      const listener = openListener(spec, config.listenMode);
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
  keepaliveTimeout = config.keepaliveTimeout;
  if (config.balance !== undefined) share = new FairShare(config.balance, () => http.connections);
  setRetireHook(() => {
    appAsked = true;
    http.retireSoon();
  });
  for (let i = 0; i < listeners.length; i++) {
    const spec = config.listeners[i];
    const gated = share !== undefined && sharesAcceptQueue(spec, config.listenMode);
    const fair = share;
    const listener = gated && fair !== undefined
      ? new WrappedListener(listeners[i], (conn) => conn, () => fair.allows())
      : listeners[i];
    acceptLoops.push(
      http.serve(listener, listenerScheme(spec)).catch((error) =>
        warn("accept loop failed", error)
      ),
    );
  }
  post({ type: "listening" });
}

/** Resolves once `server` has no connection left, `within` ms passed, or `signal` aborts. */
function allClosed(http: HttpServer, within: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + within;
  return new Promise((resolve) => {
    const check = () => {
      if (http.connections === 0 || signal.aborted || Date.now() >= until) {
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
    // Every further response says `Connection: close`.
    if (mode === "recycle") http.retireSoon();
    http.stopAccepting();
    // Upgraded connections (WebSockets) never end by themselves: ask them to (1001).
    http.closeUpgraded();
    share?.leave();
    // An accept that completed just as the listener closed is handed to its loop a moment
    // later; once the loops have ended, every accepted connection is known and gets served
    // (draining at once would close it unanswered).
    await Promise.all(acceptLoops);
    post({ type: "closed" });
    // Recycling leaves idle keep-alive connections until their keep-alive timeout unless their
    // client sends one more request first; draining closes them now. No connection becomes idle
    // after this point (every response says close), so once the keep-alive timeout has passed
    // what remains is requests in flight and WebSockets finishing their close handshake, both
    // of which draining lets end.
    if (mode === "recycle") {
      await allClosed(http, keepaliveTimeout + 250, AbortSignal.any([cut.signal, drainNow.signal]));
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
      if (retiring) {
        if (message.mode === "drain") drainNow.abort();
        break;
      }
      retiring = true;
      retire(message.mode, message.deadline);
      break;
  }
});
