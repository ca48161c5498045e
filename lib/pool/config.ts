/**
 * How a pool is configured, and the clock it runs on.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";
import type { PolicyConfig } from "./policy.ts";
import type { WorkerConfig } from "./protocol.ts";
import type { WorkerLauncher } from "./transport.ts";

/** A timer's id, as `setTimeout` returns it. */
export type TimerId = ReturnType<typeof setTimeout>;

/** The clock and timers the supervisor uses (tests pass a fake one). */
export interface Clock {
  /** Milliseconds, increasing. */
  now(): number;
  /** Calls `callback` after `ms`. */
  setTimeout(callback: () => void, ms: number): TimerId;
  /** Cancels a {@link Clock.setTimeout}. */
  clearTimeout(id: TimerId): void;
}

/**
 * The real clock: `Date.now()` and the global timers.
 *
 * @example
 * ```ts
 * import { realClock } from "./config.ts";
 * const id = realClock.setTimeout(() => {}, 10);
 * realClock.clearTimeout(id);
 * ```
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * The default `--worker-timeout` (ms): gunicorn's. A false alarm costs a healthy worker (one
 * busy in synchronous code for that long) its requests in flight, while a late alarm costs only
 * the time before a replacement starts: a stuck thread takes no new connection in `shared` mode
 * and cannot be stopped anyway.
 */
export const DEFAULT_WORKER_TIMEOUT = 30_000;

/** How a pool is run. Times are in milliseconds. */
export interface SupervisorConfig {
  /** Workers to keep running. */
  workers: number;
  /** Most workers TTIN may raise the pool to (default: the larger of `workers` and 4 × CPUs). */
  maxWorkers?: number;
  /** Least time between two spawns. */
  spawnInterval: number;
  /** How long a graceful shutdown or retirement may take before connections are cut. */
  gracefulTimeout: number;
  /** Request limit per worker (Infinity for none). */
  maxReqsPerChild: number;
  /** With a finite limit: each worker draws its limit from [min, max]. */
  minReqsPerChild: number | undefined;
  /** What every worker gets (its `id`, `maxRequests` and `balance` are filled in per worker). */
  worker: Omit<WorkerConfig, "id" | "maxRequests" | "balance">;
  /** Starts workers. */
  launcher: WorkerLauncher;
  /** The permissions a worker runs with, given the addresses it will listen on. */
  permissions: (listeners: ListenSpec[]) => Deno.PermissionOptions;
  /**
   * Called once the supervisor holds its sockets (their ports resolved) and before the first
   * worker starts: what must be bound or dropped before any app code runs. Throwing stops the
   * start.
   */
  beforeWorkers?: (listeners: ListenSpec[]) => void | Promise<void>;
  /** Called once, when the shutdown begins in earnest (after the shutdown delay). */
  draining?: () => void;
  /**
   * Ms after the first shutdown request during which everything is served as usual but the
   * health path answers 503, so balancers stop sending first (default 0).
   */
  shutdownDelay?: number;
  /** Heartbeat period (default 1 s). */
  heartbeatInterval?: number;
  /** Silence after which a worker counts as hung (`--worker-timeout`, default 30 s). */
  workerTimeout?: number;
  /** Longest time a worker may take to load the app and listen (default 60 s). */
  startTimeout?: number;
  /** Heap in use past which a worker is replaced (`--max-worker-memory`; Infinity for none). */
  maxWorkerMemory?: number;
  /** The clock (default: the real one). */
  clock?: Clock;
}

/**
 * The policy's settings from a supervisor's config, defaults filled in.
 *
 * @example
 * ```ts ignore
 * policyConfig(config).workerTimeout; // 30000 unless set
 * ```
 */
export function policyConfig(config: SupervisorConfig): PolicyConfig {
  return {
    spawnInterval: config.spawnInterval,
    workerTimeout: config.workerTimeout ?? DEFAULT_WORKER_TIMEOUT,
    startTimeout: config.startTimeout ?? 60_000,
    maxWorkerMemory: config.maxWorkerMemory ?? Infinity,
  };
}
