/**
 * What both engines' servers are made of: the live connections and the accept loops over the
 * listeners, the request count and the request limit, the retire and drain states, the health
 * answer, the warnings gate and the sweeper's timer. Each engine adds how it takes a connection,
 * how it sweeps, how it drains and how it aborts.
 *
 * @module
 */

import type { RetireReason } from "../app/retire.ts";
import { WarnGate } from "../observe/warn_gate.ts";
import { acceptNext } from "./accept.ts";
import { AcceptLoops, ConnectionList } from "./connection_list.ts";
import type { EngineOptions } from "./config.ts";
import type { AccessEntry } from "./exchange.ts";

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

/**
 * The part of a server both engines share.
 *
 * @example
 * ```ts ignore
 * class MyServer extends ServerCore<MyConnection> {
 *   protected accepted(conn: Deno.Conn, scheme: string): void {
 *     this.live.add(new MyConnection(conn, this, scheme));
 *   }
 *   protected sweepEvery(): number {
 *     return 100;
 *   }
 *   protected sweep(): void {}
 * }
 * ```
 */
export abstract class ServerCore<C extends { index: number }> {
  /** The engine options. */
  readonly options: EngineOptions;
  /** Access-log hook, if any. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  /** Responses sent, by status class: [1xx, 2xx, 3xx, 4xx, 5xx] (for the metrics). */
  readonly responses: number[] = [0, 0, 0, 0, 0];
  /** The live connections. */
  protected readonly live: ConnectionList<C> = new ConnectionList<C>();
  /** The accept loops and their listeners. */
  protected readonly loops: AcceptLoops = new AcceptLoops();
  /** Set once draining (or aborting) began. */
  protected isDraining = false;
  readonly #hooks: ServerHooks;
  readonly #warnings: WarnGate;
  readonly #maxRequests: number;
  #requests = 0;
  #retiring = false;
  #healthy = true;
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

  /** Takes an accepted connection: adds it to {@link live} and starts serving it. */
  protected abstract accepted(conn: Deno.Conn, scheme: string): void;
  /** The sweeper's period in ms, asked when it starts. */
  protected abstract sweepEvery(): number;
  /** One look at every connection's deadlines. */
  protected abstract sweep(): void;

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
    return this.isDraining;
  }

  /** True once the server retires or drains: every response closes its connection. */
  get retiring(): boolean {
    return this.#retiring || this.isDraining;
  }

  /** Requests started so far. */
  get requests(): number {
    return this.#requests;
  }

  /** Live connections. */
  get connections(): number {
    return this.live.length;
  }

  /** Counts a request; the one that reaches the request limit retires the server. */
  requestStarted(): void {
    if (++this.#requests >= this.#maxRequests) this.retire("request-limit");
  }

  /** Counts a response by its status class (for the metrics). */
  responded(status: number): void {
    const index = (status / 100 | 0) - 1;
    if (index >= 0 && index < 5) this.responses[index]++;
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
  closed(connection: C): void {
    if (this.live.remove(connection)) {
      this.#stopSweeper();
      this.#idle?.();
    }
  }

  /** Accepts connections from `listener` until it is closed; `scheme` is `http` or `https`. */
  serve(listener: Deno.Listener, scheme: string): Promise<void> {
    return this.loops.run(listener, () => this.#acceptLoop(listener, scheme));
  }

  async #acceptLoop(listener: Deno.Listener, scheme: string): Promise<void> {
    // Until the listener says it is closed, not until draining begins: a connection accepted as
    // the listener closed, or verified after it (a relay listener's), is served (one response,
    // then close), since its client has sent its request already.
    for (;;) {
      const conn = await acceptNext(listener, this);
      if (conn === undefined) break;
      this.accepted(conn, scheme);
      this.#startSweeper();
    }
  }

  /** Stops accepting on every listener. */
  stopAccepting(): void {
    this.loops.stopAccepting();
  }

  /**
   * The drain both engines share: stop accepting, wait for the accept loops to end (an accept
   * that completed as its listener closed reaches its loop a moment later, so every accepted
   * connection is known after that), apply `each` to every connection, and resolve once none is
   * left.
   */
  protected async drainWith(each: (connection: C) => void): Promise<void> {
    this.isDraining = true;
    this.stopAccepting();
    await this.loops.ended();
    for (const connection of [...this.live.items]) each(connection);
    if (this.live.length === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const sweeper = setInterval(() => this.sweep(), this.sweepEvery());
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
