/**
 * A worker as the supervisor knows it: its state, which only moves forward
 * (starting → serving → limited → retiring → gone, skipping allowed), and the facts the policy
 * decides on. A handle does no I/O: the supervisor applies each transition and then acts.
 *
 * @module
 */

import type { RetireReason } from "../app/retire.ts";
import type { RetireMode } from "./protocol.ts";

/** Where a worker is in its life. */
export type WorkerState =
  /** Loading the app and opening its listeners. */
  | "starting"
  /** Accepting and serving. */
  | "serving"
  /** Accepting and serving, but to be replaced: it leaves once the pool can do without it. */
  | "limited"
  /** Told to leave; stops accepting, finishes its connections. */
  | "retiring"
  /** Exited or abandoned. */
  | "gone";

/**
 * Why the pool retires (or abandons) a worker: the worker's own {@link RetireReason}, or one of
 * the pool's.
 */
export type RetireCause =
  | RetireReason
  /** It had an uncaught error or unhandled rejection. */
  | "crash"
  /** Its heap passed `--max-worker-memory`. */
  | "memory"
  /** A graceful restart (HUP) replaces it. */
  | "restart"
  /** TTOU: fewer workers wanted. */
  | "fewer-workers"
  /** The server is shutting down. */
  | "shutdown";

/** Why a state cannot be entered from another. */
export class IllegalTransition extends Error {
  override name = "IllegalTransition";
}

const NEXT: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ["serving", "gone"],
  serving: ["limited", "retiring", "gone"],
  limited: ["retiring", "gone"],
  retiring: ["gone"],
  gone: [],
};

/**
 * What the policy reads about a worker; {@link WorkerHandle} implements it, tests pass plain
 * objects. Times are milliseconds on the supervisor's clock.
 */
export interface WorkerView {
  /** Unique for the supervisor's life, increasing with each spawn. */
  readonly id: number;
  readonly state: WorkerState;
  /** When it was spawned. */
  readonly spawnedAt: number;
  /** When it began listening (`undefined` before). */
  readonly servingAt: number | undefined;
  /** Its last message (its spawn time before any). */
  readonly lastSeen: number;
  /** Requests it started, as it last reported. */
  readonly requests: number;
  /** Its V8 heap in use (bytes), as it last reported; 0 before the first report. */
  readonly heap: number;
  /** Its first crash (one line), if any: it serves on until replaced. */
  readonly crash: string | undefined;
  /** Why it is `limited` or `retiring`. */
  readonly cause: RetireCause | undefined;
  /** A restart replaces it: it stays `serving` until its replacement listens. */
  readonly outgoing: boolean;
  /** While `retiring`: how. */
  readonly mode: RetireMode | undefined;
  /** While `retiring`: when it is abandoned if it has not left (Infinity otherwise). */
  readonly retireDeadline: number;
  /** While `retiring`: its listeners are closed, it takes no new connection. */
  readonly closed: boolean;
}

/**
 * One worker's state machine. Each transition checks that it is legal and throws
 * {@link IllegalTransition} otherwise; {@link WorkerHandle.may} asks first (for messages from
 * the worker, which are untrusted and may come in any order).
 *
 * @example
 * ```ts
 * import { WorkerHandle } from "./handle.ts";
 * const worker = new WorkerHandle(1, 0);
 * worker.listening(10);
 * worker.limit("request-limit");
 * worker.retire("recycle", "request-limit", 30_000);
 * worker.gone();
 * ```
 */
export class WorkerHandle implements WorkerView {
  readonly id: number;
  readonly spawnedAt: number;
  #state: WorkerState = "starting";
  #servingAt: number | undefined;
  #lastSeen: number;
  #requests = 0;
  #heap = 0;
  /** Open connections, as it last reported. */
  connections = 0;
  /** Responses by status class, as it last reported (never decreasing). */
  readonly responses: number[] = [0, 0, 0, 0, 0];
  #crash: string | undefined;
  #cause: RetireCause | undefined;
  #outgoing = false;
  #mode: RetireMode | undefined;
  #retireDeadline = Infinity;
  #closed = false;

  /** A worker spawned at `now`, starting. */
  constructor(id: number, now: number) {
    this.id = id;
    this.spawnedAt = now;
    this.#lastSeen = now;
  }

  get state(): WorkerState {
    return this.#state;
  }
  get servingAt(): number | undefined {
    return this.#servingAt;
  }
  get lastSeen(): number {
    return this.#lastSeen;
  }
  get requests(): number {
    return this.#requests;
  }
  get heap(): number {
    return this.#heap;
  }
  get crash(): string | undefined {
    return this.#crash;
  }
  get cause(): RetireCause | undefined {
    return this.#cause;
  }
  get outgoing(): boolean {
    return this.#outgoing;
  }
  get mode(): RetireMode | undefined {
    return this.#mode;
  }
  get retireDeadline(): number {
    return this.#retireDeadline;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether it accepts connections (serving or limited). */
  get accepting(): boolean {
    return this.#state === "serving" || this.#state === "limited";
  }

  /** Whether `next` can be entered now. */
  may(next: WorkerState): boolean {
    return NEXT[this.#state].includes(next);
  }

  #enter(next: WorkerState): void {
    if (!this.may(next)) {
      throw new IllegalTransition(`worker ${this.id}: ${this.#state} → ${next} is not allowed`);
    }
    this.#state = next;
  }

  /** It heard from the worker at `now`. */
  seen(now: number): void {
    this.#lastSeen = Math.max(this.#lastSeen, now);
  }

  /** The worker's own report (heartbeat, crash): requests started, heap in use. */
  report(requests: number, heap = this.#heap): void {
    this.#requests = Math.max(this.#requests, requests);
    this.#heap = heap;
  }

  /**
   * Its heartbeat's counters, for the metrics. Counts never go back (a worker that lies makes
   * only its own figures wrong, never another's).
   */
  counters(connections: number, responses: readonly number[]): void {
    this.connections = connections;
    for (let i = 0; i < 5; i++) this.responses[i] = Math.max(this.responses[i], responses[i]);
  }

  /** starting → serving: it listens. */
  listening(now: number): void {
    this.#enter("serving");
    this.#servingAt = now;
  }

  /** serving → limited: it is to be replaced, and accepts until the pool can do without it. */
  limit(cause: RetireCause): void {
    this.#enter("limited");
    this.#cause = cause;
    this.#outgoing = false;
  }

  /** Records its first crash; it goes on serving (in any live state). */
  crashed(reason: string): void {
    if (this.#state === "gone") {
      throw new IllegalTransition(`worker ${this.id}: a gone worker cannot crash`);
    }
    this.#crash ??= reason;
  }

  /** A restart will replace it (serving only); {@link keep} undoes it. */
  replace(): void {
    if (this.#state !== "serving") {
      throw new IllegalTransition(`worker ${this.id}: only a serving worker is replaced`);
    }
    this.#outgoing = true;
  }

  /** A stopped restart keeps it after all. */
  keep(): void {
    this.#outgoing = false;
  }

  /**
   * serving or limited → retiring, told to leave by `deadline`. On a retiring worker, only a
   * `drain` that overtakes a `recycle` is allowed (a shutdown during a retirement).
   */
  retire(mode: RetireMode, cause: RetireCause, deadline: number): void {
    if (this.#state === "retiring") {
      if (mode !== "drain" || this.#mode !== "recycle") {
        throw new IllegalTransition(`worker ${this.id}: already retiring (${this.#mode})`);
      }
      this.#mode = mode;
      this.#retireDeadline = Math.min(this.#retireDeadline, deadline);
      return;
    }
    this.#enter("retiring");
    this.#mode = mode;
    this.#cause = cause;
    this.#outgoing = false;
    this.#retireDeadline = deadline;
  }

  /** retiring: its listeners are closed. */
  stoppedAccepting(): void {
    if (this.#state !== "retiring") {
      throw new IllegalTransition(
        `worker ${this.id}: ${this.#state} workers do not stop accepting`,
      );
    }
    this.#closed = true;
  }

  /** Any → gone: exited, failed, or abandoned. */
  gone(): void {
    this.#enter("gone");
    this.#outgoing = false;
  }
}
