/**
 * The pool's rules, as pure functions of a snapshot of the pool and the time: what to spawn,
 * retire, abandon, and when to look again. No clock, timer or worker is touched here; the
 * supervisor applies the actions (`supervisor.ts`).
 *
 * The rules:
 * 1. **Capacity never drops to zero, nor below the pool's size for a replacement.** A worker to
 *    be replaced keeps accepting until the pool can do without it: one that wants out (its
 *    request limit, `retireWorker()`) as soon as another worker accepts; one the pool replaces
 *    (restart, crash, memory) once the workers accepting exceed the wanted count, that is, once
 *    its replacement listens. A restart therefore never stops an old worker before a new one
 *    listens.
 * 2. **At most one spawn per spawn interval**, whatever the reason (start, replacement, restart,
 *    more workers); with no interval, every missing worker at once.
 * 3. **Back-off only for workers that never served.** A worker that dies before it served (no
 *    request, and less than {@link EARLY_DEATH} in service) is a start failure: the next spawn
 *    waits 0.25 s, doubling with each failure in a row up to 30 s (workers dying together count
 *    once). A worker that served and dies is replaced at once. The back-off never holds more
 *    than its first step while no worker accepts, and ends once a worker spawned after the last
 *    failure has served.
 * 4. **A restart replaces one worker at a time**, oldest first: it marks one old worker, whose
 *    replacement starts; the old one leaves once the replacement listens (rule 1); the restart
 *    moves on once the old one stopped accepting. A new worker failing at start stops the
 *    restart and the old workers keep serving.
 * 5. **Request limits and the app's request**: see rule 1 (the worker reports it).
 * 6. **More or fewer workers**: missing workers are spawned (rule 2); extra ones leave, newest
 *    first, workers still starting before serving ones.
 * 7. **Watchdogs**: a worker silent for the worker timeout is abandoned as hung; one that does
 *    not listen within the start timeout, or does not finish retiring by its deadline, is
 *    abandoned.
 * 8. **Crashes and memory**: a worker that crashed (an uncaught error) or whose heap passed the
 *    memory limit is replaced, replacement first (rule 1). Crash replacements start at most once
 *    per {@link CRASH_PACE}: each start costs a worker tens of milliseconds of CPU, and the
 *    crashed worker serves on meanwhile.
 * 9. **Shutdown**: workers still starting are abandoned, the others drain (a recycling one is
 *    told to drain instead); nothing is spawned.
 *
 * @module
 */

import type { RetireCause, WorkerView } from "./handle.ts";
import type { RetireMode } from "./protocol.ts";

/** A worker in service at least this long (ms) has served, even without a request. */
export const EARLY_DEATH = 2000;
/** The first back-off step (ms). */
export const FIRST_BACKOFF = 250;
/** The longest back-off (ms). */
export const MAX_BACKOFF = 30_000;
/** Least time (ms) between two replacements of crashed workers that still serve. */
export const CRASH_PACE = 1000;
/** Time a retiring worker gets beyond its own deadline before it is abandoned (ms). */
export const RETIRE_GRACE = 2000;

/** The settings the rules read. Times in milliseconds; Infinity for no limit. */
export interface PolicyConfig {
  /** Least time between two spawns. */
  spawnInterval: number;
  /** Silence after which a worker counts as hung. */
  workerTimeout: number;
  /** Longest time a worker may take to load the app and listen. */
  startTimeout: number;
  /** Heap in use (bytes) past which a worker is replaced. */
  maxWorkerMemory: number;
}

/** The start-failure back-off. */
export interface Backoff {
  /** Start failures in a row. */
  readonly failures: number;
  /** When the last one happened. */
  readonly lastFailure: number;
  /** No spawn before this time (while some worker accepts). */
  readonly notBefore: number;
}

/** No failure yet. */
export const NO_BACKOFF: Backoff = { failures: 0, lastFailure: -Infinity, notBefore: -Infinity };

/** A graceful restart in progress. */
export interface RestartState {
  /** Workers with a lower id are old: they run the code from before the restart. */
  readonly cutoff: number;
  /** The old worker being replaced now. */
  readonly current: number | undefined;
}

/** Everything the rules look at. */
export interface PoolSnapshot {
  /** Workers wanted. */
  readonly desired: number;
  /** Until the first worker listens, only that one worker exists. */
  readonly launching: boolean;
  /** Shutting down. */
  readonly stopping: boolean;
  /** Every worker not yet forgotten (gone ones are ignored). */
  readonly workers: readonly WorkerView[];
  /** When the last spawn happened. */
  readonly lastSpawn: number;
  /** When the last crashed worker was marked for replacement. */
  readonly lastCrashReplacement: number;
  readonly backoff: Backoff;
  readonly restart: RestartState | undefined;
}

/** Why a worker is dropped without a graceful retirement. */
export type AbandonCause =
  | "start-timeout"
  | "hung"
  | "retire-timeout"
  | "fewer-workers"
  | "shutdown";

/** What the supervisor is to do. */
export type Action =
  /** Start `count` workers. */
  | { type: "spawn"; count: number }
  /** Mark a serving worker for replacement (it keeps accepting until rule 1 retires it). */
  | { type: "limit"; id: number; cause: "crash" | "memory" }
  /** Tell a worker to leave (or a recycling one to drain instead). */
  | { type: "retire"; id: number; mode: RetireMode; cause: RetireCause }
  /** Drop a worker now. */
  | { type: "abandon"; id: number; cause: AbandonCause }
  /** The restart replaces this worker next. */
  | { type: "restart-next"; id: number }
  /** The worker the restart replaced stopped accepting (or is gone): go on. */
  | { type: "restart-step" }
  /** No old worker is left: the restart is done. */
  | { type: "restart-finished" }
  /** A worker served since the last start failure: the back-off starts over. */
  | { type: "forgive" }
  /** Nothing more to do before this time unless something happens. */
  | { type: "wait"; until: number };

/** Whether `worker` has served: a request, or {@link EARLY_DEATH} in service. */
export function hasServed(worker: WorkerView, now: number): boolean {
  return worker.servingAt !== undefined &&
    (worker.requests > 0 || now - worker.servingAt >= EARLY_DEATH);
}

/** What a worker's unplanned end means for the pool. */
export interface ExitVerdict {
  /** The back-off after it. */
  backoff: Backoff;
  /** It never served: a start failure. */
  startFailure: boolean;
  /** For a start failure: how long the back-off holds from now (ms). */
  delay: number;
  /** A restart is running and this new worker failed at start: stop the restart. */
  stopsRestart: boolean;
}

/**
 * Rule 3 (and 4's failure): the verdict on a worker that died, failed, hung or timed out at
 * start, at `now`.
 *
 * @example
 * ```ts
 * import { NO_BACKOFF, recordExit } from "./policy.ts";
 * const worker = { id: 2, state: "starting", spawnedAt: 0, servingAt: undefined, lastSeen: 0,
 *   requests: 0, heap: 0, crash: undefined, cause: undefined, outgoing: false, mode: undefined,
 *   retireDeadline: Infinity, closed: false } as const;
 * recordExit(NO_BACKOFF, undefined, worker, 100).delay; // 250
 * ```
 */
export function recordExit(
  backoff: Backoff,
  restart: RestartState | undefined,
  worker: WorkerView,
  now: number,
): ExitVerdict {
  if (hasServed(worker, now)) {
    // Its replacement starts at once; a later start failure goes on doubling.
    return {
      backoff: { ...backoff, notBefore: -Infinity },
      startFailure: false,
      delay: 0,
      stopsRestart: false,
    };
  }
  // Workers spawned before the last failure die together with it: one failure, not several.
  const failures = backoff.failures === 0 || worker.spawnedAt > backoff.lastFailure
    ? backoff.failures + 1
    : backoff.failures;
  const delay = Math.min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (failures - 1));
  return {
    backoff: { failures, lastFailure: now, notBefore: now + delay },
    startFailure: true,
    delay,
    stopsRestart: restart !== undefined && worker.id >= restart.cutoff,
  };
}

/**
 * Rule 3: no spawn before this time. The back-off holds only while some worker accepts; while
 * none does, at most its first step.
 */
export function backoffUntil(backoff: Backoff, accepting: boolean): number {
  return accepting
    ? backoff.notBefore
    : Math.min(backoff.notBefore, backoff.lastFailure + FIRST_BACKOFF);
}

/** Rule 6: a TTIN/TTOU step, between one worker and `ceiling`. */
export function nextDesired(desired: number, step: 1 | -1, ceiling: number): number {
  return Math.max(1, Math.min(ceiling, desired + step));
}

/** One pass over the rules: the actions for `pool` at `now`, ending with when to look again. */
export function decide(pool: PoolSnapshot, config: PolicyConfig, now: number): Action[] {
  const round = new Round(pool, now);
  watch(round, config);
  if (pool.stopping) {
    shutDown(round);
  } else {
    forgive(round);
    markForReplacement(round, config);
    stepRestart(round);
    letLeave(round);
    trim(round);
    spawn(round, config);
  }
  return round.finish();
}

/** The state of one pass: workers still in play, and the actions so far. */
class Round {
  readonly pool: PoolSnapshot;
  readonly now: number;
  readonly actions: Action[] = [];
  /** Live workers not abandoned or retired in this pass. */
  readonly live: WorkerView[];
  /** Workers marked for replacement in this pass (no longer `serving` once applied). */
  readonly marked = new Set<number>();
  #wake = Infinity;

  constructor(pool: PoolSnapshot, now: number) {
    this.pool = pool;
    this.now = now;
    this.live = pool.workers.filter((w) => w.state !== "gone").sort((a, b) => a.id - b.id);
  }

  /** Look again at `time` if it is in the future. */
  later(time: number): void {
    if (time > this.now && time < this.#wake) this.#wake = time;
  }

  #drop(worker: WorkerView): void {
    this.live.splice(this.live.indexOf(worker), 1);
  }

  abandon(worker: WorkerView, cause: AbandonCause): void {
    this.actions.push({ type: "abandon", id: worker.id, cause });
    this.#drop(worker);
  }

  retire(worker: WorkerView, mode: RetireMode, cause: RetireCause): void {
    this.actions.push({ type: "retire", id: worker.id, mode, cause });
    this.#drop(worker);
  }

  /** Workers accepting connections (serving or limited). */
  accepting(): number {
    return this.live.filter((w) => w.state === "serving" || w.state === "limited").length;
  }

  /** Workers that count towards the pool: starting, or serving and not being replaced. */
  active(): WorkerView[] {
    return this.live.filter((w) =>
      w.state === "starting" || (w.state === "serving" && !w.outgoing)
    );
  }

  finish(): Action[] {
    if (this.#wake < Infinity) this.actions.push({ type: "wait", until: this.#wake });
    return this.actions;
  }
}

/** Rule 7. */
function watch(round: Round, config: PolicyConfig): void {
  for (const worker of [...round.live]) {
    if (worker.state === "retiring") {
      if (round.now >= worker.retireDeadline) round.abandon(worker, "retire-timeout");
      else round.later(worker.retireDeadline);
    } else if (worker.state === "starting") {
      const limit = worker.spawnedAt + config.startTimeout;
      if (round.now >= limit) round.abandon(worker, "start-timeout");
      else round.later(limit);
    } else {
      const silentUntil = worker.lastSeen + config.workerTimeout;
      if (round.now >= silentUntil) round.abandon(worker, "hung");
      else round.later(silentUntil);
    }
  }
}

/** Rule 9. */
function shutDown(round: Round): void {
  for (const worker of [...round.live]) {
    if (worker.state === "starting") round.abandon(worker, "shutdown");
    else if (worker.state !== "retiring" || worker.mode === "recycle") {
      round.retire(worker, "drain", "shutdown");
    }
  }
}

/** Rule 3's end. */
function forgive(round: Round): void {
  const { backoff } = round.pool;
  if (backoff.failures === 0) return;
  const healed = round.live.some((w) =>
    w.servingAt !== undefined && w.servingAt > backoff.lastFailure && hasServed(w, round.now)
  );
  if (healed) round.actions.push({ type: "forgive" });
  else {
    for (const w of round.live) {
      if (w.servingAt !== undefined && w.servingAt > backoff.lastFailure) {
        round.later(w.servingAt + EARLY_DEATH);
      }
    }
  }
}

/** Rule 8: memory first (no pace), then at most one crashed worker per pace. */
function markForReplacement(round: Round, config: PolicyConfig): void {
  let crashPaced = round.pool.lastCrashReplacement + CRASH_PACE;
  for (const worker of round.live) {
    if (worker.state !== "serving" || worker.outgoing) continue;
    if (worker.heap > config.maxWorkerMemory) {
      round.actions.push({ type: "limit", id: worker.id, cause: "memory" });
      round.marked.add(worker.id);
    } else if (worker.crash !== undefined) {
      if (round.now >= crashPaced) {
        round.actions.push({ type: "limit", id: worker.id, cause: "crash" });
        round.marked.add(worker.id);
        crashPaced = round.now + CRASH_PACE;
      } else round.later(crashPaced);
    }
  }
}

/** Rule 4. */
function stepRestart(round: Round): void {
  const restart = round.pool.restart;
  if (restart === undefined) return;
  if (restart.current !== undefined) {
    const current = round.live.find((w) => w.id === restart.current);
    if (current === undefined || (current.state === "retiring" && current.closed)) {
      round.actions.push({ type: "restart-step" });
    }
    return;
  }
  const old = round.live.filter((w) =>
    w.id < restart.cutoff && (w.state === "starting" || (w.state === "serving" && !w.outgoing))
  );
  if (old.length === 0) round.actions.push({ type: "restart-finished" });
  else {
    // An old worker still starting is let come up first, then replaced like the others.
    const next = old.find((w) => w.state === "serving" && !round.marked.has(w.id));
    if (next !== undefined) round.actions.push({ type: "restart-next", id: next.id });
  }
}

/** Rule 1 (and 5): which workers being replaced may leave now, oldest first. */
function letLeave(round: Round): void {
  const leaving = round.live.filter((w) => w.state === "limited" || w.outgoing);
  for (const worker of leaving) {
    const accepting = round.accepting();
    const wantsOut = worker.cause === "request-limit" || worker.cause === "app";
    const others = accepting - 1;
    if (others < 1) continue;
    if (wantsOut || accepting > round.pool.desired) {
      round.retire(worker, "recycle", worker.state === "limited" ? worker.cause! : "restart");
    }
  }
}

/** Rule 6, fewer: newest first, workers still starting before serving ones. */
function trim(round: Round): void {
  const wanted = round.pool.launching ? 1 : round.pool.desired;
  const active = round.active();
  if (active.length <= wanted) return;
  const extra = active.sort((a, b) =>
    a.state === b.state ? b.id - a.id : a.state === "starting" ? -1 : 1
  ).slice(0, active.length - wanted);
  for (const worker of extra) {
    if (worker.state === "starting") round.abandon(worker, "fewer-workers");
    else round.retire(worker, "recycle", "fewer-workers");
  }
}

/** Rules 2, 3 and 6, more. */
function spawn(round: Round, config: PolicyConfig): void {
  const { pool, now } = round;
  const missing = (pool.launching ? 1 : pool.desired) - round.active().length;
  if (missing <= 0) return;
  const hold = backoffUntil(pool.backoff, round.accepting() > 0);
  const at = Math.max(pool.lastSpawn + config.spawnInterval, hold);
  if (now >= at) {
    round.actions.push({ type: "spawn", count: config.spawnInterval > 0 ? 1 : missing });
  } else round.later(at);
}

/**
 * Whether the supervisor should answer new connections itself with 503: the pool has started,
 * is not shutting down, and no worker accepts (all crashed, or replacements failing). A request
 * then gets an answer at once rather than waiting in the kernel for a worker that may never
 * come (issue 14, item 2).
 *
 * @example
 * ```ts ignore
 * standIn.set(standsIn(snapshot));
 * ```
 */
export function standsIn(pool: PoolSnapshot): boolean {
  if (pool.launching || pool.stopping) return false;
  return !pool.workers.some((worker) => worker.state === "serving" || worker.state === "limited");
}
