/**
 * The messages between the supervisor and its workers.
 *
 * @module
 */

import type { ListenSpec } from "./listen_spec.ts";
import type { ListenMode } from "./options.ts";

/** TLS material, read by the supervisor (workers may not read the key files). */
export interface TlsMaterial {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** Everything a worker needs to start serving. Times are in milliseconds. */
export interface WorkerConfig {
  /** The worker's number, unique for the supervisor's life. */
  id: number;
  /** The app module URL. */
  app: string;
  /** Where to listen. */
  listeners: ListenSpec[];
  /** How TCP listeners are shared between workers. */
  listenMode: ListenMode;
  /** TLS material when serving HTTPS. */
  tls: TlsMaterial | undefined;
  timeout: number;
  headerTimeout: number;
  keepaliveTimeout: number;
  maxKeepaliveRequests: number;
  maxRequestBody: number;
  maxWsMessage: number;
  serverSoftware: string;
  development: boolean;
  /** Requests this worker serves before it retires (Infinity for none). */
  maxRequests: number;
  /** Send access-log entries to the supervisor. */
  accessLog: boolean;
}

/** Supervisor → worker. */
export type ToWorker =
  | { type: "start"; config: WorkerConfig }
  | { type: "ping"; seq: number }
  | { type: "retire"; deadline: number };

/** Worker → supervisor. */
export type FromWorker =
  | { type: "listening"; addresses: ListenSpec[] }
  | { type: "pong"; seq: number }
  | { type: "limit" }
  | { type: "failed"; message: string }
  | { type: "log"; level: "warning" | "error" | "info"; message: string }
  | { type: "access"; line: string }
  | { type: "retired" };
