/**
 * The server's running totals for `--metrics-listen`: when it started, how many workers it
 * started and how many ended unasked, and what workers no longer here served, so that the
 * request and response totals never go back when a worker is replaced. Pure: the supervisor
 * (or, with `workers: 0`, the in-process server, its one worker) reports each event and asks
 * for a snapshot.
 *
 * @module
 */

import type { ServerMetrics } from "./metrics.ts";

/** What the tally reads of a live worker (a `WorkerHandle`). */
export interface TalliedWorker {
  readonly id: number;
  readonly state: string;
  readonly spawnedAt: number;
  readonly requests: number;
  readonly responses: readonly number[];
  readonly connections: number;
  readonly heap: number;
}

/**
 * The pool's totals.
 *
 * @example
 * ```ts
 * import { PoolTally } from "./tally.ts";
 * const tally = new PoolTally(0, 2);
 * tally.spawned();
 * tally.spawned();
 * tally.spawned(); // a replacement
 * tally.gone({ requests: 5, responses: [0, 5, 0, 0, 0] });
 * tally.metrics(3000, []).restarts; // 1
 * tally.metrics(3000, []).requests; // 5
 * ```
 */
export class PoolTally {
  readonly #startedAt: number;
  readonly #initial: number;
  #spawned = 0;
  #crashes = 0;
  #requests = 0;
  readonly #responses = [0, 0, 0, 0, 0];

  /** Counts from `startedAt` (ms) for a pool that starts with `initial` workers. */
  constructor(startedAt: number, initial: number) {
    this.#startedAt = startedAt;
    this.#initial = initial;
  }

  /** A worker was started. */
  spawned(): void {
    this.#spawned++;
  }

  /** A worker crashed or ended without being asked. */
  crashed(): void {
    this.#crashes++;
  }

  /** A worker left the pool: what it served stays in the totals. */
  gone(worker: Pick<TalliedWorker, "requests" | "responses">): void {
    this.#requests += worker.requests;
    worker.responses.forEach((n, i) => this.#responses[i] += n);
  }

  /** The figures at `now`, the live workers' own included. */
  metrics(now: number, live: readonly TalliedWorker[]): ServerMetrics {
    return {
      uptime: Math.round((now - this.#startedAt) / 1000),
      restarts: Math.max(0, this.#spawned - this.#initial),
      crashes: this.#crashes,
      requests: live.reduce((sum, worker) => sum + worker.requests, this.#requests),
      responses: this.#responses.map((gone, i) =>
        live.reduce((sum, worker) => sum + worker.responses[i], gone)
      ),
      workers: live.map((worker) => ({
        id: worker.id,
        state: worker.state,
        requests: worker.requests,
        responses: worker.responses,
        connections: worker.connections,
        uptime: Math.round((now - worker.spawnedAt) / 1000),
        heap: worker.heap,
      })),
    };
  }
}
