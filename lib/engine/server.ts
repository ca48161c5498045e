/**
 * One worker's HTTP server: accept loops over its listeners, the set of live connections, the
 * sweeper that enforces their deadlines, and the drain that ends them gracefully.
 *
 * @module
 */

import { AcceptLoops, ConnectionList } from "./connection_list.ts";
import type { RetireReason } from "../app/retire.ts";
import { WarnGate } from "../observe/warn_gate.ts";
import { tick } from "./clock.ts";
import type { EngineOptions } from "./config.ts";
import { type AccessEntry, Connection, type ConnectionOwner } from "./connection.ts";
import { acceptNext } from "./accept.ts";

/** What the server reports to whoever runs it (the worker, or `serve()` in-process). */
export interface ServerHooks {
  /**
   * The server retires (its request limit was reached, or the app asked): the worker should be
   * replaced, then drained. Called once.
   */
  onRetire?(reason: RetireReason): void;
  /**
   * A problem worth an operator's attention. The same message again within a second is held
   * back and counted; the count comes with its next report.
   */
  warn(message: string, error?: unknown): void;
  /** One access-log entry per response; omit to keep no access log. */
  access?(entry: AccessEntry): void;
}

/** Sweeper period: fine enough for sub-second timeouts, cheap enough to never matter. */
function sweepInterval(options: EngineOptions): number {
  const shortest = Math.min(options.timeout, options.headerTimeout, options.keepaliveTimeout);
  return Math.max(10, Math.min(100, Math.floor(shortest / 4)));
}

/**
 * Serves HTTP/1.1 on any number of listeners.
 *
 * @example
 * ```ts ignore
 * const server = new HttpServer(engineOptions(settings, handler), { warn: console.warn });
 * server.serve(Deno.listen({ port: 8080 }), "http");
 * await server.drain();
 * ```
 */
export class HttpServer implements ConnectionOwner {
  /** The engine options. */
  readonly options: EngineOptions;
  /** Access-log hook, if any. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  readonly #hooks: ServerHooks;
  /**
   * The live connections, each knowing its index. An array with swap-removal, not a `Set`: under
   * connection churn a `Set` kept closed connections reachable across young-generation GCs
   * (scavenges of 11 ms instead of 0.5 ms at 15,000 connections a second, measured with
   * `--trace-gc`), which showed as p99 latency.
   */
  readonly #connections = new ConnectionList<Connection>();
  readonly #accepting = new AcceptLoops();
  readonly #goingAway = new AbortController();
  readonly #maxRequests: number;
  readonly #warnings: WarnGate;
  #requests = 0;
  /** Responses sent, by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly responses: number[] = [0, 0, 0, 0, 0];
  #retiring = false;
  #draining = false;
  #healthy = true;
  #sweepEvery = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #idle: (() => void) | undefined;

  /** `maxRequests` is this worker's request limit (Infinity for none). */
  constructor(options: EngineOptions, hooks: ServerHooks, maxRequests = Infinity) {
    this.options = options;
    this.#hooks = hooks;
    this.#warnings = new WarnGate(hooks.warn);
    this.access = hooks.access;
    this.#maxRequests = maxRequests;
  }

  /** What the health path answers: true until the server shuts down or waits to. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * From now on the health path answers 503: this server is about to shut down, and balancers
   * should stop sending (everything else is served as usual).
   */
  markUnhealthy(): void {
    this.#healthy = false;
  }

  /** True once draining began. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Aborts when upgraded connections (WebSockets) must end, closing with 1001 Going Away:
   * on drain, on abort, or on {@link closeUpgraded}.
   */
  get drainSignal(): AbortSignal {
    return this.#goingAway.signal;
  }

  /**
   * Asks upgraded connections to end now (WebSockets send 1001 and wait for the peer's close
   * frame). A retiring worker calls it: they never end by themselves, and the replacement
   * worker already takes new connections.
   */
  closeUpgraded(): void {
    this.#goingAway.abort();
  }

  /** True once the server retires or drains: every response closes its connection. */
  get retiring(): boolean {
    return this.#retiring || this.#draining;
  }

  /** Requests started so far. */
  get requests(): number {
    return this.#requests;
  }

  /** Live connections. */
  get connections(): number {
    return this.#connections.length;
  }

  /** Counts a response by its status class (for the metrics). */
  responded(status: number): void {
    const index = (status / 100 | 0) - 1;
    if (index >= 0 && index < 5) this.responses[index]++;
  }

  /** Counts a request; the one that reaches the request limit retires the server. */
  requestStarted(): void {
    if (++this.#requests >= this.#maxRequests) this.retire("request-limit");
  }

  /**
   * Ends keep-alive from now on (every response says `Connection: close`). With a reason (the
   * request limit, or the app's `retireWorker()`), the owner is told through `onRetire` so it
   * replaces this worker; without one, the owner is retiring it already.
   */
  retire(reason?: RetireReason): void {
    if (this.#retiring) return;
    this.#retiring = true;
    if (reason !== undefined) this.#hooks.onRetire?.(reason);
  }

  /** Reports a problem, at most once a second for the same message (see `ServerHooks.warn`). */
  warn(message: string, error?: unknown): void {
    this.#warnings.warn(message, error);
  }

  /** Forgets a finished connection. */
  closed(connection: Connection): void {
    if (this.#connections.remove(connection)) {
      this.#stopSweeper();
      this.#idle?.();
    }
  }

  /** Accepts connections from `listener` until it is closed; `scheme` is `http` or `https`. */
  serve(listener: Deno.Listener, scheme: string): Promise<void> {
    return this.#accepting.run(listener, () => this.#acceptLoop(listener, scheme));
  }

  async #acceptLoop(listener: Deno.Listener, scheme: string): Promise<void> {
    while (!this.draining) {
      const conn = await acceptNext(listener, this);
      if (conn === undefined) break;
      // A connection accepted as the listener closed is served (one response, then close):
      // its client has sent its request already. The loop ends at its next turn.
      tick();
      const connection = new Connection(conn, this, scheme);
      this.#connections.add(connection);
      this.#startSweeper();
      connection.run();
    }
  }

  /** Stops accepting on every listener. */
  stopAccepting(): void {
    this.#accepting.stopAccepting();
  }

  /**
   * Graceful stop: no new connections, idle keep-alive connections closed at once, requests in
   * flight finished (their responses say `Connection: close`). Resolves when all are done.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    this.#goingAway.abort();
    this.stopAccepting();
    // An accept that completed as its listener closed reaches its loop a moment later: wait
    // for the loops to end, so every accepted connection is known before idle ones close.
    await this.#accepting.ended();
    for (const connection of [...this.#connections.items]) connection.closeIfIdle();
    if (this.#connections.length === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  /**
   * Ends every connection now (after the graceful deadline); a chunked stream ends as a
   * finished response. Returns how many were cut.
   */
  abort(): number {
    this.#draining = true;
    this.#goingAway.abort();
    this.stopAccepting();
    let cut = 0;
    for (const connection of [...this.#connections.items]) {
      if (connection.finishStream()) continue;
      connection.expire();
      cut++;
    }
    return cut;
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweepEvery = sweepInterval(this.options);
    const sweeper = setInterval(() => this.#sweep(), this.#sweepEvery);
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    // Deadlines were set from the coarse clock, which lags real time by up to one period:
    // waiting that period more means no timeout ends early.
    const now = tick() - this.#sweepEvery;
    // Backwards, so a connection removed on the way (the last one moves into its place) is
    // never skipped.
    const connections = this.#connections.items;
    for (let i = connections.length - 1; i >= 0; i--) {
      const connection = connections[i];
      if (connection === undefined) continue;
      if (connection.deadline !== 0 && connection.deadline <= now) connection.expire();
      else if (connection.watchable) connection.watch();
    }
  }
}

/**
 * How long a server shutting down keeps an idle keep-alive connection open: long enough for a
 * request its client sent as the signal came to arrive and be answered (with `Connection:
 * close`), short enough that shutting down stays prompt. A server with no connection waits not
 * at all.
 */
export const SHUTDOWN_GRACE = 300;

/**
 * Resolves once `server` has no connection left, `within` ms passed, or `signal` aborts.
 *
 * @example
 * ```ts ignore
 * server.retire(); // every further response closes its connection
 * await connectionsClosed(server, SHUTDOWN_GRACE);
 * await server.drain();
 * ```
 */
export function connectionsClosed(
  server: { readonly connections: number },
  within: number,
  signal?: AbortSignal,
): Promise<void> {
  const until = Date.now() + within;
  return new Promise((resolve) => {
    const check = () => {
      if (server.connections === 0 || signal?.aborted || Date.now() >= until) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, 20);
    check();
  });
}
