/**
 * The supervisor's running workers: each one's handle beside its transport, fair-share slot,
 * request limit, start-up promise and line gate. Spawning and forgetting a worker happen here;
 * when to do either is the policy's decision.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";
import type { BalanceBoard } from "./balance.ts";
import type { SupervisorConfig } from "./config.ts";
import { WorkerHandle } from "./handle.ts";
import { describeError } from "../log.ts";
import type { TransportEvents, WorkerTransport } from "./transport.ts";
import { WorkerLineGate } from "./worker_lines.ts";

/** A worker that could not start; its message is the worker's own one-line reason. */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

/** A running worker: its handle and what the supervisor keeps beside it. */
export interface Live {
  handle: WorkerHandle;
  transport: WorkerTransport;
  /** Its request limit (Infinity for none). */
  maxRequests: number;
  /** Its fair-share slot (-1 for none). */
  slot: number;
  /** Settles when it listens (resolves) or ends before (rejects). */
  ready: PromiseWithResolvers<void>;
  /** Its log and access lines, checked. */
  lines: WorkerLineGate;
}

/**
 * The running workers, by id.
 *
 * @example
 * ```ts ignore
 * const workers = new WorkerSet(config, board);
 * const live = workers.spawn(1, Date.now(), listeners, (live) => events);
 * workers.count((handle) => handle.accepting);
 * workers.remove(live);
 * ```
 */
export class WorkerSet {
  readonly #config: SupervisorConfig;
  readonly #board: BalanceBoard | undefined;
  readonly #all = new Map<number, Live>();

  /** Workers spawned by `config.launcher`, with slots from `board` when fair share applies. */
  constructor(config: SupervisorConfig, board: BalanceBoard | undefined) {
    this.#config = config;
    this.#board = board;
  }

  /** How many run. */
  get size(): number {
    return this.#all.size;
  }

  /** Every running worker, oldest first. */
  all(): Live[] {
    return [...this.#all.values()];
  }

  /** The worker with `id`. */
  get(id: number): Live | undefined {
    return this.#all.get(id);
  }

  /** Workers whose handle passes `test`. */
  count(test: (handle: WorkerHandle) => boolean): number {
    let n = 0;
    for (const live of this.#all.values()) if (test(live.handle)) n++;
    return n;
  }

  /**
   * Starts worker `id` at `now`, listening on `listeners`, and sends it its config. A launcher
   * that throws is reported as the worker's exit.
   */
  spawn(
    id: number,
    now: number,
    listeners: ListenSpec[],
    events: (live: Live) => TransportEvents,
  ): Live {
    const slot = this.#board?.take() ?? -1;
    const { maxReqsPerChild: max, minReqsPerChild: min } = this.#config;
    const live: Live = {
      handle: new WorkerHandle(id, now),
      transport: { send() {}, terminate() {}, kill() {} },
      maxRequests: Number.isFinite(max) && min !== undefined
        ? min + Math.floor(Math.random() * (max - min + 1))
        : max,
      slot,
      ready: Promise.withResolvers<void>(),
      lines: new WorkerLineGate(),
    };
    live.ready.promise.catch(() => {});
    this.#all.set(id, live);
    const on = events(live);
    try {
      live.transport = this.#config.launcher.spawn(
        { id, permissions: this.#config.permissions(listeners) },
        on,
      );
    } catch (error) {
      queueMicrotask(() => on.exit(`cannot start: ${describeError(error)}`));
      return live;
    }
    live.transport.send({
      type: "start",
      config: {
        ...this.#config.worker,
        listeners,
        id,
        maxRequests: live.maxRequests,
        balance: this.#board?.configFor(slot),
      },
    });
    return live;
  }

  /**
   * Forgets a worker that is leaving now, ending it if it still runs: asked to end, or `force`d
   * (one that hangs, or overstayed its retirement).
   */
  remove(live: Live, force = false): void {
    const { handle } = live;
    if (handle.state !== "gone") handle.gone();
    if (force) live.transport.kill();
    else live.transport.terminate();
    this.#all.delete(handle.id);
    this.#board?.free(live.slot);
    live.ready.reject(new WorkerStartError(`worker ${handle.id} stopped before it listened`));
  }
}
