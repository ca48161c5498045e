/**
 * The supervisor: keeps the pool of workers at its size, replaces workers that die, hang, grow
 * or reach their request limit, restarts them one at a time, and shuts them down gracefully. It
 * never serves requests itself.
 *
 * It only does effects: timers, spawning, the held sockets (`anchors.ts`), the fair-share board
 * (`balance.ts`) and logging. Every decision is the pure policy's (`policy.ts`, where the rules
 * are listed); every worker's state is its handle's (`handle.ts`); workers are reached through
 * a transport (`transport.ts`). Like gunicorn's arbiter, requests from outside (signals via
 * `restart()`, `grow()`, `shrink()`, `shutdown()`) and lifecycle messages from workers are only
 * queued; one turn of the main loop, {@link Supervisor}'s `#turn`, reads top to bottom: take
 * the queued events, send heartbeats, apply the policy's actions, then sleep until the policy's
 * next time or the next event.
 *
 * Nothing a worker says is trusted beyond its own lifecycle (the app shares its isolate):
 * messages are checked (`parseFromWorker`) and its log and access lines escaped and rate-limited
 * (`worker_lines.ts`).
 *
 * @module
 */

import { log, writeAccess } from "../log.ts";
import type { ListenSpec } from "../listen/spec.ts";
import { type Anchors, holdSockets } from "./anchors.ts";
import { BalanceBoard } from "./balance.ts";
import type { RetireCause, WorkerHandle } from "./handle.ts";
import { PoolLog, retireText } from "./pool_log.ts";
import { RestartRun } from "./restart_run.ts";
import {
  type Action,
  type Backoff,
  backoffUntil,
  decide,
  nextDesired,
  NO_BACKOFF,
  type PolicyConfig,
  type PoolSnapshot,
  recordExit,
  RETIRE_GRACE,
  standsIn,
} from "./policy.ts";
import { StandIn } from "./stand_in.ts";
import { PoolTally } from "../observe/tally.ts";
import type { ServerMetrics } from "../observe/metrics.ts";
import { sharesAcceptQueue } from "../listen/open.ts";
import { type FromWorker, parseFromWorker, type RetireMode } from "./protocol.ts";
import { capText, MAX_LOG_LINE } from "./worker_lines.ts";
import { type Live, WorkerSet, WorkerStartError } from "./worker_set.ts";
import {
  type Clock,
  policyConfig,
  realClock,
  type SupervisorConfig,
  type TimerId,
} from "./config.ts";

export { WorkerStartError };
export type { SupervisorConfig };

/** A worker that counts towards the pool's size. */
const isActive = (h: WorkerHandle) =>
  h.state === "starting" || (h.state === "serving" && !h.outgoing);

/** Passes over the policy in one turn; each pass moves the pool forward, so few are needed. */
const MAX_PASSES = 8;

type Event =
  | { kind: "message"; live: Live; message: FromWorker }
  | { kind: "exit"; live: Live; reason: string }
  | { kind: "restart" | "grow" | "shrink" | "shutdown" };

/**
 * Runs a pool of workers.
 *
 * @example
 * ```ts ignore
 * const supervisor = new Supervisor(config);
 * const addresses = await supervisor.start();
 * await supervisor.shutdown();
 * ```
 */
export class Supervisor {
  readonly #config: SupervisorConfig;
  readonly #policy: PolicyConfig;
  readonly #clock: Clock;
  readonly #ceiling: number;
  #workers: WorkerSet;
  readonly #events: Event[] = [];
  readonly #finished = Promise.withResolvers<void>();
  readonly #say = new PoolLog();
  readonly #restarts = new RestartRun();
  #desired: number;
  #nextId = 1;
  #lastSpawn = -Infinity;
  #lastCrashReplacement = -Infinity;
  #lastPing = -Infinity;
  #seq = 0;
  #hung = 0;
  #backoff: Backoff = NO_BACKOFF;
  #launch = Promise.withResolvers<void>();
  #launching = true;
  #stopping = false;
  readonly #tally: PoolTally;
  /** Waiting out the shutdown delay: serving, the health path saying 503. */
  #delaying = false;
  #delayTimer: TimerId | undefined;
  #standIn: StandIn | undefined;
  #done = false;
  #anchors: Anchors | undefined;
  #board: BalanceBoard | undefined;
  #listeners: ListenSpec[];
  #scheduled = false;
  #timer: TimerId | undefined;

  /** Creates a supervisor; nothing runs until {@link start}. */
  constructor(config: SupervisorConfig) {
    this.#config = config;
    this.#clock = config.clock ?? realClock;
    this.#desired = Math.max(1, config.workers);
    this.#ceiling = config.maxWorkers ??
      Math.max(this.#desired, 4 * navigator.hardwareConcurrency);
    this.#listeners = config.worker.listeners;
    this.#policy = policyConfig(config);
    this.#workers = new WorkerSet(config, undefined);
    this.#tally = new PoolTally(this.#clock.now(), config.workers);
    this.#launch.promise.catch(() => {});
  }

  /** Resolves once every worker has exited after {@link shutdown}. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** Workers currently running (starting, serving or leaving). */
  get size(): number {
    return this.#workers.size;
  }

  /** Workers wanted. */
  get desired(): number {
    return this.#desired;
  }

  /**
   * The pool's figures for `--metrics-listen`: each live worker's, as its heartbeats report
   * them, and the restarts and crashes seen.
   */
  metrics(): ServerMetrics {
    return this.#tally.metrics(
      this.#clock.now(),
      this.#workers.all().map(({ handle }) => handle),
    );
  }

  /**
   * Starts the pool. The first worker must load the app and listen, or this rejects with its
   * reason. Without a spawn interval it resolves once every initial worker listens (or failed,
   * then being retried); with one, as soon as the first listens, the rest following at the
   * interval.
   */
  async start(): Promise<ListenSpec[]> {
    this.#anchors = holdSockets(this.#config.worker.listeners, this.#config.worker.listenMode);
    this.#listeners = this.#anchors.listeners;
    try {
      await this.#config.beforeWorkers?.(this.#listeners);
    } catch (error) {
      this.#anchors.close();
      throw error;
    }
    if (this.#anchors.shared) this.#board = new BalanceBoard();
    const held = this.#listeners.filter((spec) =>
      sharesAcceptQueue(spec, this.#config.worker.listenMode)
    );
    if (held.length > 0) this.#standIn = new StandIn(held);
    this.#workers = new WorkerSet(this.#config, this.#board);
    this.#wake();
    await this.#launch.promise;
    if (this.#config.spawnInterval === 0) {
      const initial = this.#workers.all().filter((w) => w.handle.state === "starting");
      await Promise.all(initial.map((w) => w.ready.promise.catch(() => {})));
    }
    return this.#listeners;
  }

  /**
   * Graceful restart of every worker, one at a time: a new worker (loading the app afresh)
   * starts and listens, then an old one stops accepting and drains. If a new worker fails to
   * start, the restart stops there and the remaining old workers keep serving. A restart asked
   * for while one runs starts over once it ends (the code may have changed again). Resolves
   * when the restart has finished or stopped.
   */
  restart(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    const done = this.#restarts.ask();
    this.#enqueue({ kind: "restart" });
    return done;
  }

  /** One worker more (TTIN), up to the ceiling. */
  grow(): void {
    this.#enqueue({ kind: "grow" });
  }

  /** One worker fewer, never below one (TTOU). */
  shrink(): void {
    this.#enqueue({ kind: "shrink" });
  }

  /**
   * Graceful shutdown: every worker stops accepting, closes its idle keep-alive connections at
   * once and finishes the requests in flight; after the graceful timeout the rest are cut.
   * Calling it again (a second signal) terminates at once.
   */
  shutdown(): Promise<void> {
    this.#enqueue({ kind: "shutdown" });
    return this.#finished.promise;
  }

  // -------------------------------------------------------------------------------------------
  // The main loop

  #enqueue(event: Event): void {
    this.#events.push(event);
    this.#wake();
  }

  #wake(): void {
    if (this.#scheduled || this.#done) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#turn());
  }

  /** One turn: events, heartbeats, the policy's actions, then sleep. */
  #turn(): void {
    this.#scheduled = false;
    const now = this.#clock.now();
    for (const event of this.#events.splice(0)) {
      if (!this.#done) this.#take(event, now);
    }
    if (this.#done) return;
    this.#heartbeat(now);
    const wait = this.#act(now);
    if (this.#done) return;
    this.#say.waits(this.#workers.all());
    this.#board?.publishAccepting(this.#workers.count((h) => h.accepting));
    this.#standInFor(this.#snapshot());
    this.#say.summarise(now);
    if (this.#stopping && this.#workers.size === 0) return this.#finish();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    const beat = this.#lastPing + (this.#config.heartbeatInterval ?? 1000);
    const until = Math.min(wait, beat, this.#say.summaryDue);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#wake();
    }, Math.max(0, until - now));
  }

  /** Applies the policy until it has nothing more to do now; returns when to look again. */
  #act(now: number): number {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let wait = Infinity;
      let acted = false;
      for (const action of decide(this.#snapshot(), this.#policy, now)) {
        if (this.#done) return wait;
        if (action.type === "wait") wait = action.until;
        else {
          try {
            this.#apply(action, now);
          } catch (error) {
            // A bug here must not end the server with every worker: say it, go on.
            log.error("supervisor: {action} failed: {reason}", {
              action: JSON.stringify(action),
              reason: error instanceof Error ? error.stack : String(error),
            });
          }
          acted = true;
        }
      }
      if (!acted) return wait;
    }
    return now;
  }

  #snapshot(): PoolSnapshot {
    return {
      desired: this.#desired,
      launching: this.#launching,
      stopping: this.#stopping,
      workers: this.#workers.all().map((w) => w.handle),
      lastSpawn: this.#lastSpawn,
      lastCrashReplacement: this.#lastCrashReplacement,
      backoff: this.#backoff,
      restart: this.#restarts.state,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Events: facts from workers and requests from outside

  #take(event: Event, now: number): void {
    switch (event.kind) {
      case "message":
        return this.#lifecycle(event.live, event.message, now);
      case "exit":
        return this.#ended(event.live, event.reason, now);
      case "restart":
        if (this.#stopping) return this.#restarts.settle();
        return this.#beginRestart();
      case "shutdown":
        return this.#beginShutdown();
      default: {
        if (this.#stopping) return;
        const before = this.#desired;
        const grow = event.kind === "grow";
        this.#desired = nextDesired(before, grow ? 1 : -1, this.#ceiling);
        this.#say.count(before, this.#desired, this.#ceiling, grow);
      }
    }
  }

  /** A message from a worker; the ones that change only facts are taken at once. */
  #message(live: Live, data: unknown): void {
    const message = parseFromWorker(data);
    if (message === undefined || live.handle.state === "gone") return;
    const now = this.#clock.now();
    live.handle.seen(now);
    if (message.type === "pong") {
      live.handle.report(message.requests, message.heap);
      live.handle.counters(message.connections, message.responses);
      this.#wake();
    } else if (message.type === "log") {
      const text = live.lines.log(message.message, now);
      if (text !== undefined) this.#say.fromWorker(live.handle.id, message.level, text);
    } else if (message.type === "access") {
      const line = live.lines.access(message.line, now);
      if (line !== undefined) writeAccess(line);
    } else this.#enqueue({ kind: "message", live, message });
  }

  #lifecycle(live: Live, message: FromWorker, now: number): void {
    const { handle } = live;
    if (handle.state === "gone") return;
    switch (message.type) {
      case "listening":
        if (!handle.may("serving")) return;
        handle.listening(now);
        if (this.#delaying) live.transport.send({ type: "unhealthy" });
        this.#say.started(handle.id, live.maxRequests);
        live.ready.resolve();
        this.#launching = false;
        this.#launch.resolve();
        return;
      case "retire":
        if (handle.state === "serving") handle.limit(message.reason);
        return;
      case "failed":
        return this.#ended(live, message.message, now);
      case "exiting":
        handle.report(message.requests);
        return this.#ended(live, message.reason, now);
      case "crashed": {
        handle.report(message.requests);
        if (handle.state === "starting") return this.#ended(live, message.reason, now);
        const text = capText(message.reason, MAX_LOG_LINE);
        this.#say.crashed(
          handle.id,
          handle.state === "retiring",
          handle.crash !== undefined,
          text,
          now,
        );
        handle.crashed(text);
        this.#tally.crashed();
        return;
      }
      case "closed":
        if (handle.state === "retiring") handle.stoppedAccepting();
        return;
      case "retired":
        if (handle.state !== "retiring") return;
        handle.report(message.requests);
        handle.counters(0, message.responses);
        this.#say.retired(handle.id, message.cut);
        this.#remove(live);
    }
  }

  /** A worker ended without being asked: it is replaced, with back-off if it never served. */
  #ended(live: Live, reason: string, now: number, force = false): void {
    const { handle } = live;
    if (handle.state === "gone") return;
    if (handle.state !== "retiring" && handle.crash === undefined) this.#tally.crashed();
    const text = capText(reason, MAX_LOG_LINE);
    if (handle.state === "retiring") {
      this.#say.endedWhileRetiring(handle.id, text);
      return this.#remove(live, force);
    }
    if (this.#launching) {
      // The first worker: the server does not start, and start() says why.
      this.#done = true;
      for (const other of this.#workers.all()) this.#remove(other, force);
      this.#anchors?.close();
      this.#launch.reject(new WorkerStartError(text));
      return;
    }
    if (this.#stopping) return this.#remove(live, force);
    const wasStarting = handle.state === "starting";
    const verdict = recordExit(this.#backoff, this.#restarts.state, handle, now);
    this.#backoff = verdict.backoff;
    this.#remove(live, force);
    if (verdict.stopsRestart) {
      for (const other of this.#workers.all()) other.handle.keep();
    }
    const missing = this.#workers.count(isActive) < this.#desired;
    const accepting = this.#workers.count((h) => h.accepting) > 0;
    this.#say.died(handle.id, {
      what: wasStarting
        ? "could not start"
        : verdict.startFailure
        ? "crashed right after start"
        : "crashed",
      retry: !missing ? undefined : verdict.startFailure
        ? {
          delay: backoffUntil(verdict.backoff, accepting) - now,
          failures: verdict.backoff.failures,
        }
        : "replacing",
      reason: text,
    }, now);
    // After the worker's own reason, so the log reads cause first.
    if (verdict.stopsRestart) this.#restarts.stop("the new workers do not start");
  }

  #beginRestart(): void {
    this.#restarts.begin(
      this.#nextId,
      this.#workers.count((h) => h.state === "serving" && !h.outgoing),
    );
  }

  #beginShutdown(): void {
    const delay = this.#config.shutdownDelay ?? 0;
    if (!this.#stopping && !this.#delaying && delay > 0) {
      // Balancers learn from the health path first; everything else is served as usual.
      this.#delaying = true;
      this.#say.shutdownDelayed(delay / 1000);
      for (const live of this.#workers.all()) live.transport.send({ type: "unhealthy" });
      this.#delayTimer = this.#clock.setTimeout(() => this.shutdown(), delay);
      return;
    }
    if (this.#delayTimer !== undefined) this.#clock.clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    this.#say.shutdown(this.#stopping, this.#workers.size);
    if (this.#stopping) {
      for (const live of this.#workers.all()) this.#remove(live, true);
      return;
    }
    this.#stopping = true;
    this.#restarts.settle();
    // New connections are refused from now on, so a balancer fails over at once: the held
    // sockets close here, and each worker closes its own as it is told to retire.
    this.#standIn?.set(false);
    this.#anchors?.close();
    this.#config.draining?.();
  }

  /** The stand-in answers 503 while no worker accepts (see `standsIn`). */
  #standInFor(pool: PoolSnapshot): void {
    const standIn = this.#standIn;
    if (standIn === undefined) return;
    const active = standsIn(pool);
    if (active !== standIn.active) this.#say.standIn(active);
    standIn.set(active);
  }

  // -------------------------------------------------------------------------------------------
  // Effects of the policy's actions

  #apply(action: Exclude<Action, { type: "wait" }>, now: number): void {
    const live = "id" in action ? this.#workers.get(action.id)! : undefined!;
    switch (action.type) {
      case "spawn":
        for (let i = 0; i < action.count; i++) this.#spawn(now);
        this.#lastSpawn = now;
        return;
      case "limit":
        live.handle.limit(action.cause);
        if (action.cause === "crash") this.#lastCrashReplacement = now;
        else this.#say.overMemory(action.id, live.handle.heap, this.#policy.maxWorkerMemory);
        return;
      case "retire":
        return this.#retire(live, action.mode, action.cause, now);
      case "abandon":
        return this.#abandon(live, action.cause, now);
      case "restart-next":
        live.handle.replace();
        return this.#restarts.next(action.id);
      case "restart-step":
        return this.#restarts.step();
      case "restart-finished":
        if (this.#restarts.finish()) this.#beginRestart();
        return;
      case "forgive":
        this.#backoff = NO_BACKOFF;
    }
  }

  #spawn(now: number): void {
    this.#tally.spawned();
    this.#workers.spawn(this.#nextId++, now, this.#listeners, (live) => ({
      message: (data) => this.#message(live, data),
      exit: (reason) => this.#enqueue({ kind: "exit", live, reason }),
    }));
  }

  #retire(live: Live, mode: RetireMode, cause: RetireCause, now: number): void {
    const { handle } = live;
    const graceful = this.#config.gracefulTimeout;
    if (handle.state !== "retiring") {
      this.#say.retiring(handle.id, retireText(cause, live.maxRequests));
    }
    handle.retire(mode, cause, now + graceful + RETIRE_GRACE);
    live.transport.send({ type: "retire", mode, within: graceful });
  }

  #abandon(live: Live, cause: string, now: number): void {
    const { handle } = live;
    switch (cause) {
      case "hung":
        this.#say.hung(
          handle.id,
          Math.round((now - handle.lastSeen) / 1000),
          ++this.#hung,
          this.#config.launcher.stopsStuckWorkers,
        );
        return this.#ended(live, "no heartbeat", now, true);
      case "start-timeout":
        return this.#ended(
          live,
          `did not start listening within ${this.#policy.startTimeout / 1000} s`,
          now,
          true,
        );
      case "retire-timeout":
        this.#say.retireTimeout(handle.id, this.#stopping);
        return this.#remove(live, true);
      default:
        this.#say.stoppedBeforeServing(
          handle.id,
          cause === "fewer-workers" ? "fewer workers wanted" : cause,
        );
        this.#remove(live);
    }
  }

  #remove(live: Live, force = false): void {
    // Its counts stay in the server's totals, which never go back.
    this.#tally.gone(live.handle);
    this.#workers.remove(live, force);
    this.#say.forget(live.handle.id);
  }

  #finish(): void {
    this.#done = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#standIn?.set(false);
    this.#anchors?.close();
    // A crash loop cut short by the shutdown is still summarised.
    this.#say.summarise(Infinity);
    this.#say.finished();
    this.#finished.resolve();
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeats and waits

  #heartbeat(now: number): void {
    if (now < this.#lastPing + (this.#config.heartbeatInterval ?? 1000)) return;
    this.#lastPing = now;
    const seq = ++this.#seq;
    for (const live of this.#workers.all()) {
      live.transport.send({ type: "ping", seq });
      const dropped = live.lines.takeDropped();
      if (dropped > 0) this.#say.dropped(live.handle.id, dropped);
    }
  }
}
