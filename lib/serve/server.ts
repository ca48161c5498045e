/**
 * What `serve()` returns, whichever way it serves: in this thread or through the pool.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";

/**
 * A running server.
 *
 * @example
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: "./app.ts", port: 8080 });
 * console.log(server.addresses);
 * await server.shutdown();
 * ```
 */
export interface Server {
  /** The addresses listened on, with port 0 resolved to the real port. */
  readonly addresses: ListenSpec[];
  /** Graceful shutdown; resolves when every connection is closed. A second call forces it. */
  shutdown(): Promise<void>;
  /** Graceful restart of every worker, loading the app afresh. */
  restart(): Promise<void>;
  /** One worker more. */
  addWorker(): void;
  /** One worker fewer (never below one). */
  removeWorker(): void;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}
