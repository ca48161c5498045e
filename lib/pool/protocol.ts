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
import type { WorkerListenMode } from "../listen/open.ts";
import type { Engine } from "../options/mod.ts";
import type { RetireReason } from "../app/retire.ts";
import type { BalanceConfig } from "./balance.ts";

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
  listenMode: WorkerListenMode;
  /** The HTTP engine serving the accepted connections (default `ts`). */
  engine?: Engine;
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
  /** The path the engine answers itself (`--health-path`), if any. */
  healthPath?: string;
  /** Peers whose forwarding headers are trusted, as given (`--forwarded-allow-ips`). */
  forwardedAllowIps?: string;
  /** TCP connections start with a PROXY protocol header (`--proxy-protocol`). */
  proxyProtocol?: boolean;
  /** Compress responses the client accepts compressed (`--compress`). */
  compress?: boolean;
  /** Requests this worker serves before it retires (Infinity for none). */
  maxRequests: number;
  /** Send access-log entries to the supervisor. */
  accessLog: boolean;
  /** How this worker takes its fair share of a load-balanced socket's connections. */
  balance?: BalanceConfig;
}

/**
 * How a worker leaves:
 * - `recycle` (restart, request limit, fewer workers, the app's request): stop accepting, answer
 *   every further request with `Connection: close`, and exit once the last connection has ended;
 *   idle keep-alive connections may bring one more request until their keep-alive timeout, so no
 *   client loses a request it was already sending.
 * - `drain` (shutdown): stop accepting, answer every further request with `Connection: close`,
 *   close idle keep-alive connections after a short grace (a request already on its way is
 *   answered), finish the requests in flight, exit.
 */
export type RetireMode = "recycle" | "drain";

/** Supervisor → worker. */
export type ToWorker =
  | { type: "start"; config: WorkerConfig }
  | { type: "ping"; seq: number }
  /** `within` (ms from receipt): connections still open then are cut. */
  | { type: "retire"; mode: RetireMode; within: number }
  /** The server will shut down: the health path answers 503 from now on. */
  | { type: "unhealthy" };

/** Worker → supervisor. */
export type FromWorker =
  | { type: "listening" }
  /** The heartbeat's answer: requests started so far and the isolate's V8 heap in use (bytes). */
  | {
    type: "pong";
    seq: number;
    requests: number;
    heap: number;
    /** Open connections. */
    connections: number;
    /** Responses sent by status class, [1xx … 5xx]. */
    responses: number[];
  }
  /** The worker asks to be retired: its request limit was reached, or the app asked. */
  | { type: "retire"; reason: RetireReason }
  /** The app could not be loaded or the listeners opened; one line. */
  | { type: "failed"; message: string }
  /**
   * An uncaught error or unhandled rejection, as one line (message and first frame); `requests`
   * started so far. The worker goes on serving until the supervisor retires it.
   */
  | { type: "crashed"; reason: string; requests: number }
  /** The app called `Deno.exit()` or `self.close()`: the worker ends now. */
  | { type: "exiting"; reason: string; requests: number }
  | { type: "log"; level: LogLevel; message: string }
  | { type: "access"; line: string }
  /** A retiring worker's listeners are closed: it takes no new connection from here on. */
  | { type: "closed" }
  /**
   * Sent last after a retirement; `cut`: connections still open at the deadline, then cut;
   * `requests` and `responses`: its final counts (a short-lived worker may never have had a
   * heartbeat to report them with).
   */
  | { type: "retired"; cut: number; requests: number; responses: number[] };

/** The levels a worker may log at. */
export type LogLevel = "warning" | "error" | "info";

const LEVELS: ReadonlySet<string> = new Set(["warning", "error", "info"]);
const REASONS: ReadonlySet<string> = new Set(["request-limit", "app"]);

/**
 * Checks a message from a worker. The app shares the worker's isolate and can post anything, so
 * a message of the wrong shape is dropped (`undefined`), never half-trusted.
 *
 * @example
 * ```ts
 * import { parseFromWorker } from "./protocol.ts";
 * parseFromWorker({ type: "closed" }); // { type: "closed" }
 * parseFromWorker({ type: "pong", seq: "x" }); // undefined
 * ```
 */
export function parseFromWorker(data: unknown): FromWorker | undefined {
  if (data === null || typeof data !== "object") return undefined;
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case "listening":
    case "closed":
      return { type: m.type };
    case "pong": {
      const responses = responseCounts(m.responses);
      return count(m.seq) && count(m.requests) && count(m.heap)
        ? {
          type: "pong",
          seq: m.seq,
          requests: m.requests,
          heap: m.heap,
          connections: count(m.connections) ? m.connections : 0,
          responses,
        }
        : undefined;
    }
    case "retire":
      return typeof m.reason === "string" && REASONS.has(m.reason)
        ? { type: "retire", reason: m.reason as RetireReason }
        : undefined;
    case "failed":
      return typeof m.message === "string" ? { type: "failed", message: m.message } : undefined;
    case "crashed":
    case "exiting":
      return typeof m.reason === "string" && count(m.requests)
        ? { type: m.type, reason: m.reason, requests: m.requests }
        : undefined;
    case "log":
      return typeof m.level === "string" && LEVELS.has(m.level) && typeof m.message === "string"
        ? { type: "log", level: m.level as LogLevel, message: m.message }
        : undefined;
    case "access":
      return typeof m.line === "string" ? { type: "access", line: m.line } : undefined;
    case "retired":
      return count(m.cut)
        ? {
          type: "retired",
          cut: m.cut,
          requests: count(m.requests) ? m.requests : 0,
          responses: responseCounts(m.responses),
        }
        : undefined;
  }
  return undefined;
}

/** Five counts by status class, or five zeros for anything of another shape. */
function responseCounts(value: unknown): number[] {
  return Array.isArray(value) && value.length === 5 && value.every(count)
    ? [...value as number[]]
    : [0, 0, 0, 0, 0];
}

function count(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
