/**
 * Every call the pool's worker makes into the engine's `HttpServer`, in one place, so a change
 * of the engine's names touches only this file. The pool speaks of retirement: the worker asks
 * to be retired (`retire(reason)`, told through `onRetire`), and keep-alive ends while it
 * retires.
 *
 * @module
 */

import type { Handler } from "../app/contract.ts";
import type { RetireReason } from "../app/retire.ts";
import type { AccessEntry } from "../engine/connection.ts";
import { engineOptions } from "../engine/config.ts";
import { HttpServer } from "../engine/server.ts";
import { NativeServer } from "../engine/native/server.ts";
import type { WorkerConfig } from "./protocol.ts";

/** What the engine reports to the worker. */
export interface EngineEvents {
  /** The worker should be retired: its request limit was reached, or the app asked. */
  onRetire(reason: RetireReason): void;
  /** A problem worth an operator's attention. */
  warn(message: string, error?: unknown): void;
  /** One access-log entry per response; omit for none. */
  access?(entry: AccessEntry): void;
}

/** The engine as a worker uses it. */
export interface WorkerEngine {
  /** Accepts from `listener` until it closes. */
  serve(listener: Deno.Listener, scheme: string): Promise<void>;
  /** Live connections. */
  readonly connections: number;
  /** Requests started. */
  readonly requests: number;
  /** Responses sent by status class, [1xx … 5xx]. */
  readonly responses: readonly number[];
  /**
   * Keep-alive ends from now on. With a reason (harakiri), `onRetire(reason)` is called once;
   * without one (the supervisor retires this worker), nobody is told.
   */
  retire(reason?: RetireReason): void;
  /** Closes the listeners. */
  stopAccepting(): void;
  /** Asks upgraded connections (WebSockets) to end now (1001). */
  closeUpgraded(): void;
  /** From now on the health path answers 503: the server is about to shut down. */
  markUnhealthy(): void;
  /** Closes idle connections, finishes the rest; resolves when none is left. */
  drain(): Promise<void>;
  /** Ends every connection now, streams as finished responses; returns how many were cut. */
  abort(): number;
}

/**
 * The engine for a worker's `config`, serving `handler`.
 *
 * @example
 * ```ts ignore
 * const engine = workerEngine(handler, config, { onRetire: console.log, warn: console.warn });
 * engine.serve(listener, "http");
 * ```
 */
export function workerEngine(
  handler: Handler,
  config: WorkerConfig,
  events: EngineEvents,
): WorkerEngine {
  const hooks = { warn: events.warn, onRetire: events.onRetire, access: events.access };
  const options = engineOptions(config, handler);
  const http = config.engine === "native"
    ? new NativeServer(options, hooks, config.maxRequests)
    : new HttpServer(options, hooks, config.maxRequests);
  return {
    serve: (listener, scheme) => http.serve(listener, scheme),
    get connections() {
      return http.connections;
    },
    get requests() {
      return http.requests;
    },
    get responses() {
      return http.responses;
    },
    retire: (why) => http.retire(why),
    stopAccepting: () => http.stopAccepting(),
    closeUpgraded: () => http.closeUpgraded(),
    markUnhealthy: () => http.markUnhealthy(),
    drain: () => http.drain(),
    abort: () => http.abort(),
  };
}
