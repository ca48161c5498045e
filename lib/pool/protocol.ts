/**
 * The messages between the supervisor and its workers.
 *
 * The supervisor treats everything a worker says as untrusted (the app runs in the same isolate
 * and can post messages too): it never takes addresses or permissions from a worker, only
 * lifecycle events, which at worst make it replace that worker.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";
import type { ListenMode } from "../options/mod.ts";

/**
 * Everything a worker needs to start serving. Times are in milliseconds. It holds no TLS key:
 * HTTPS reaches workers through the TLS fronts' relay (`listen/tls_fronts.ts`).
 */
export interface WorkerConfig {
  /** The worker's number, unique for the supervisor's life. */
  id: number;
  /** The app module URL. */
  app: string;
  /** Where to listen (TCP ports already resolved by the supervisor, never 0). */
  listeners: ListenSpec[];
  /** How TCP listeners are shared between workers. */
  listenMode: ListenMode;
  /** Idle limit for every read and write. */
  timeout: number;
  /** Total limit for receiving a request head. */
  headerTimeout: number;
  /** Idle limit between requests on a persistent connection. */
  keepaliveTimeout: number;
  /** Requests per connection (Infinity for no limit). */
  maxKeepaliveRequests: number;
  /** Largest request body in bytes (Infinity for no limit). */
  maxRequestBody: number;
  /** Largest WebSocket message in bytes (Infinity for no limit). */
  maxWsMessage: number;
  /** Reason phrases for status lines (`node:http`'s table, which workers do not load). */
  reasonPhrases: Readonly<Record<number, string | undefined>>;
  /** `Server` header value. */
  serverSoftware: string;
  /** Show error details in 500 responses. */
  development: boolean;
  /** Requests this worker serves before it retires (Infinity for none). */
  maxRequests: number;
  /** Send access-log entries to the supervisor. */
  accessLog: boolean;
  /** How this worker takes its fair share of a load-balanced socket's connections. */
  balance?: BalanceConfig;
}

/**
 * Deno's `loadBalanced` sockets have one accept queue for every worker, and whichever thread
 * is awake first takes the connection: under a burst one worker can take nearly all keep-alive
 * connections while the others idle. So each worker publishes its live connection count in a
 * shared array and stops accepting while it holds more than its share (see `thread_worker.ts`).
 *
 * Layout of `shares` (Int32): [0] workers accepting, [1] slots in use (highest + 1), then one
 * slot per worker with its live connections.
 */
export interface BalanceConfig {
  /** The shared array. */
  shares: SharedArrayBuffer;
  /** This worker's slot (index into the counts, after the two header cells). */
  slot: number;
}

/** Header cells before the per-worker counts in {@link BalanceConfig.shares}. */
export const BALANCE_HEADER = 2;

/**
 * How a worker leaves:
 * - `recycle` (restart, request limit, fewer workers, the app's request): stop accepting, answer
 *   every further request with `Connection: close`, and exit once the last connection has ended;
 *   idle keep-alive connections may bring one more request until their keep-alive timeout, so no
 *   client loses a request it was already sending.
 * - `drain` (shutdown): stop accepting, close idle keep-alive connections at once, finish the
 *   requests in flight, exit.
 */
export type RetireMode = "recycle" | "drain";

/** Supervisor → worker. */
export type ToWorker =
  | { type: "start"; config: WorkerConfig }
  | { type: "ping"; seq: number }
  /** `deadline` (ms since epoch): connections still open then are cut. */
  | { type: "retire"; mode: RetireMode; deadline: number };

/** Why a worker asked to be replaced. */
export type LimitReason = "requests" | "app";

/** Worker → supervisor. */
export type FromWorker =
  | { type: "listening" }
  | { type: "pong"; seq: number }
  /** The worker reached its request limit, or the app called `retireWorker()`. */
  | { type: "limit"; reason: LimitReason }
  /** The app could not be loaded or the listeners opened; one line. */
  | { type: "failed"; message: string }
  /**
   * An uncaught error or unhandled rejection (the first one; its stack in `reason`): the worker
   * keeps going until the supervisor retires it, so its other requests still finish.
   */
  | { type: "crashed"; reason: string }
  /** The app called `Deno.exit()` or `self.close()`: the worker ends now. */
  | { type: "exiting"; reason: string }
  | { type: "log"; level: "warning" | "error" | "info"; message: string }
  | { type: "access"; line: string }
  /** A retiring worker's listeners are closed: it takes no new connection from here on. */
  | { type: "closed" }
  /** Sent last after a retirement: every connection is closed. */
  | { type: "retired" };
