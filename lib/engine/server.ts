/**
 * One worker's HTTP server: accept loops over its listeners, the set of live connections, the
 * sweeper that enforces their deadlines, and the drain that ends them gracefully.
 *
 * @module
 */

import { tick } from "./clock.ts";
import type { EngineOptions } from "./config.ts";
import { Connection, type ConnectionOwner } from "./connection.ts";
import { ServerCore } from "./server_core.ts";
import { SHUTDOWN_GRACE } from "./graceful_stop.ts";

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
export class HttpServer extends ServerCore<Connection> implements ConnectionOwner {
  readonly #goingAway = new AbortController();
  #sweepEvery = 0;

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

  protected accepted(conn: Deno.Conn, scheme: string): void {
    tick();
    const connection = new Connection(conn, this, scheme);
    this.live.add(connection);
    connection.run();
  }

  /**
   * Graceful stop: no new connections, idle keep-alive connections closed at once, requests in
   * flight finished (their responses say `Connection: close`). Resolves when all are done.
   */
  drain(): Promise<void> {
    this.isDraining = true;
    this.#goingAway.abort();
    return this.drainWith((connection) => connection.closeIfIdle(SHUTDOWN_GRACE));
  }

  /**
   * Ends every connection now (after the graceful deadline); a chunked stream ends as a
   * finished response. Returns how many were cut.
   */
  abort(): number {
    this.isDraining = true;
    this.#goingAway.abort();
    this.stopAccepting();
    let cut = 0;
    for (const connection of [...this.live.items]) {
      if (connection.finishStream()) continue;
      connection.expire();
      cut++;
    }
    return cut;
  }

  protected sweepEvery(): number {
    return this.#sweepEvery = sweepInterval(this.options);
  }

  protected sweep(): void {
    // Deadlines were set from the coarse clock, which lags real time by up to one period:
    // waiting that period more means no timeout ends early.
    const now = tick() - this.#sweepEvery;
    // Backwards, so a connection removed on the way (the last one moves into its place) is
    // never skipped.
    const connections = this.live.items;
    for (let i = connections.length - 1; i >= 0; i--) {
      const connection = connections[i];
      if (connection === undefined) continue;
      if (connection.deadline !== 0 && connection.deadline <= now) connection.expire();
      else if (connection.watchable) connection.watch();
    }
  }
}
