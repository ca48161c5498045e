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

import type { EngineOptions } from "../config.ts";
import { ServerCore, type ServerHooks } from "../server_core.ts";
import { healthResponse, isHealthCheck } from "../../http/health.ts";
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
export class NativeServer extends ServerCore<NativeConnection> implements NativeOwner {
  /** Answers before the app, if set. */
  readonly intercept: ((request: Request) => Response | undefined) | undefined;

  /** `maxRequests` is this worker's request limit (Infinity for none). */
  constructor(options: EngineOptions, hooks: NativeHooks, maxRequests = Infinity) {
    super(options, hooks, maxRequests);
    this.intercept = hooks.intercept ??
      (options.healthPath === undefined ? undefined : this.#health(options.healthPath));
  }

  #health(path: string): (request: Request) => Response | undefined {
    return (request) => {
      const url = new URL(request.url);
      const target = url.pathname + url.search;
      return isHealthCheck(request.method, target, request.body !== null, path)
        ? healthResponse(this.healthy)
        : undefined;
    };
  }

  /**
   * WebSockets on Deno's engine belong to the app (`Deno.upgradeWebSocket`): the server cannot
   * ask them to close, so this does nothing; they end with the worker.
   */
  closeUpgraded(): void {}

  protected accepted(conn: Deno.Conn, scheme: string): void {
    const connection = new NativeConnection(conn, this, scheme);
    this.live.add(connection);
    // Accepted as the server began to drain: its request is answered, then it closes.
    if (this.isDraining) connection.end();
  }

  /**
   * Graceful stop: no new connections, idle ones closed at once, requests in flight answered
   * (Deno's engine then closes their connections). Resolves when all are done.
   */
  drain(): Promise<void> {
    return this.drainWith((connection) => connection.end());
  }

  /** Ends every connection now (after the graceful deadline); returns how many were cut. */
  abort(): number {
    this.isDraining = true;
    this.stopAccepting();
    const cut = this.live.length;
    for (const connection of [...this.live.items]) connection.cut();
    return cut;
  }

  protected sweepEvery(): number {
    return sweepInterval(this.options);
  }

  /** Ends connections on which no request started for their idle limit. */
  protected sweep(): void {
    const now = Date.now();
    const { headerTimeout, keepaliveTimeout } = this.options;
    for (const connection of [...this.live.items]) {
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
