/**
 * One worker's server on Deno's own HTTP engine (`--engine native`): the same surface as the
 * TypeScript engine's `HttpServer` (`engine/server.ts`), so the worker, the supervisor and
 * `serve()` treat both alike. Starlight still accepts every connection (fair share, relays,
 * draining) and counts every request (the request limit, retirement); each connection is then
 * served by `Deno[Deno.internal].serveHttpOnConnection` (`lib/deno/serve_http.ts`).
 *
 * Deno's engine keeps no deadlines of ours. A sweeper ends, gracefully, a connection on which
 * no request started for `--keepalive-timeout` (`--header-timeout` before its first): that
 * bounds idle keep-alive connections and silent ones, at the sweep's granularity. What stays
 * unenforced is listed in docs/engines.md.
 *
 * @module
 */

import { AcceptLoops, ConnectionList } from "../connection_list.ts";
import type { RetireReason } from "../../app/retire.ts";
import { WarnGate } from "../../observe/warn_gate.ts";
import { acceptNext } from "../accept.ts";
import type { EngineOptions } from "../config.ts";
import type { AccessEntry } from "../exchange.ts";
import type { ServerHooks } from "../server.ts";
import { healthResponse } from "../../http/health.ts";
import { NativeConnection, type NativeOwner } from "./connection.ts";

/** Hooks of the native server: the TypeScript engine's, and a seam for answering first. */
export interface NativeHooks extends ServerHooks {
  /**
   * Answers a request before the app when it returns a response (a health path, say); costs
   * nothing when absent.
   */
  intercept?(request: Request): Response | undefined;
}

/** Sweep period: a quarter of the shortest idle limit, between 10 ms and 1 s. */
function sweepInterval(options: EngineOptions): number {
  const shortest = Math.min(options.headerTimeout, options.keepaliveTimeout);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
}

/**
 * Serves HTTP on any number of listeners with Deno's engine.
 *
 * @example
 * ```ts ignore
 * const server = new NativeServer(engineOptions(settings, handler), { warn: console.warn });
 * server.serve(Deno.listen({ port: 8080 }), "http");
 * await server.drain();
 * ```
 */
export class NativeServer implements NativeOwner {
  /** The engine options. */
  readonly options: EngineOptions;
  /** Access-log hook, if any. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  /** Answers before the app, if set. */
  readonly intercept: ((request: Request) => Response | undefined) | undefined;
  readonly #hooks: ServerHooks;
  readonly #warnings: WarnGate;
  /** The live connections, each knowing its index (swap-removal, as `HttpServer`'s). */
  readonly #connections = new ConnectionList<NativeConnection>();
  readonly #accepting = new AcceptLoops();
  readonly #maxRequests: number;
  #requests = 0;
  /** Responses by status class, where counted (see `responded`). */
  readonly responses: number[] = [0, 0, 0, 0, 0];
  #retiring = false;
  #draining = false;
  #healthy = true;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #idle: (() => void) | undefined;

  /** `maxRequests` is this worker's request limit (Infinity for none). */
  constructor(options: EngineOptions, hooks: NativeHooks, maxRequests = Infinity) {
    this.options = options;
    this.#hooks = hooks;
    this.#warnings = new WarnGate(hooks.warn);
    this.access = hooks.access;
    this.intercept = hooks.intercept ??
      (options.healthPath === undefined ? undefined : this.#health(options.healthPath));
    this.#maxRequests = maxRequests;
  }

  /** What the health path answers: true until the server shuts down or waits to. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** From now on the health path answers 503 (see `HttpServer.markUnhealthy`). */
  markUnhealthy(): void {
    this.#healthy = false;
  }

  #health(path: string): (request: Request) => Response | undefined {
    return (request) => {
      if (request.method !== "GET" && request.method !== "HEAD") return undefined;
      return new URL(request.url).pathname === path ? healthResponse(this.#healthy) : undefined;
    };
  }

  /** True once draining began. */
  get draining(): boolean {
    return this.#draining;
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

  /** Counts a request; the one that reaches the request limit retires the server. */
  requestStarted(): void {
    if (++this.#requests >= this.#maxRequests) this.retire("request-limit");
  }

  /**
   * Ends keep-alive from now on (every response says `Connection: close`). With a reason, the
   * owner is told through `onRetire` so it replaces this worker.
   */
  retire(reason?: RetireReason): void {
    if (this.#retiring) return;
    this.#retiring = true;
    if (reason !== undefined) this.#hooks.onRetire?.(reason);
  }

  /**
   * WebSockets on Deno's engine belong to the app (`Deno.upgradeWebSocket`): the server cannot
   * ask them to close, so this does nothing; they end with the worker.
   */
  closeUpgraded(): void {}

  /** Reports a problem, at most once a second for the same message. */
  warn(message: string, error?: unknown): void {
    this.#warnings.warn(message, error);
  }

  /** Forgets a finished connection. */
  closed(connection: NativeConnection): void {
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
      const connection = new NativeConnection(conn, this, scheme);
      this.#connections.add(connection);
      // Accepted as the server began to drain: its request is answered, then it closes.
      if (this.#draining) connection.end();
      this.#startSweeper();
    }
  }

  /** Stops accepting on every listener. */
  stopAccepting(): void {
    this.#accepting.stopAccepting();
  }

  /**
   * Graceful stop: no new connections, idle ones closed at once, requests in flight answered
   * (Deno's engine then closes their connections). Resolves when all are done.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    this.stopAccepting();
    await this.#accepting.ended();
    for (const connection of [...this.#connections.items]) connection.end();
    if (this.#connections.length === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  /** Ends every connection now (after the graceful deadline). */
  abort(): number {
    this.#draining = true;
    this.stopAccepting();
    const cut = this.#connections.length;
    for (const connection of [...this.#connections.items]) connection.cut();
    return cut;
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const sweeper = setInterval(() => this.#sweep(), sweepInterval(this.options));
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Ends connections on which no request started for their idle limit. */
  #sweep(): void {
    const now = Date.now();
    const { headerTimeout, keepaliveTimeout } = this.options;
    for (const connection of [...this.#connections.items]) {
      if (connection.requests !== connection.seenRequests) {
        connection.seenRequests = connection.requests;
        connection.quietSince = now;
        continue;
      }
      const limit = connection.requests === 0 ? headerTimeout : keepaliveTimeout;
      if (now - connection.quietSince >= limit) connection.end();
    }
  }
}
