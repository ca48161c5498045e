/**
 * The supervisor: keeps the pool of workers at its size, replaces workers that die, hang, or
 * reach their request limit, restarts them one at a time, and shuts them down gracefully. It
 * never serves requests itself.
 *
 * Rules it keeps:
 * - Capacity never drops to zero: a worker that reached its limit keeps accepting while it is
 *   the only one, and a restart retires an old worker only once its replacement listens.
 * - At most one spawn per spawn interval, whatever the reason (start, replacement, restart,
 *   more workers); workers that die at start are retried with exponential back-off.
 * - In `shared` listen mode the supervisor holds the shared socket itself (it never accepts on
 *   it), so the port stays bound while workers come and go: no connection is refused during a
 *   restart even if every worker died, no other process can take the port, and workers started
 *   after a privilege drop join the socket without binding again.
 * - Workers sharing one accept queue take their fair share of connections (see
 *   `BalanceConfig`): the supervisor hands each a slot in a shared array of connection counts.
 * - Nothing a worker says is trusted beyond its own lifecycle (the app shares its isolate).
 *
 * @module
 */

import { log, writeAccess } from "../log.ts";
import type { ListenSpec } from "../listen/spec.ts";
import { sharesAcceptQueue } from "../listen/open.ts";
import { listenShared } from "../deno/shared_listen.ts";
import {
  BALANCE_HEADER,
  type FromWorker,
  type LimitReason,
  type RetireMode,
  type ToWorker,
  type WorkerConfig,
} from "./protocol.ts";

/** How a pool is run. Times are in milliseconds. */
export interface SupervisorConfig {
  /** Workers to keep running. */
  workers: number;
  /** Least time between two spawns. */
  spawnInterval: number;
  /** How long a graceful shutdown or retirement may take before connections are cut. */
  gracefulTimeout: number;
  /** Request limit per worker (Infinity for none). */
  maxReqsPerChild: number;
  /** With a finite limit: each worker draws its limit from [min, max]. */
  minReqsPerChild: number | undefined;
  /** What every worker gets (its `id` and `maxRequests` are filled in per worker). */
  worker: Omit<WorkerConfig, "id" | "maxRequests">;
  /** The worker module. */
  workerUrl: URL;
  /** The permissions a worker runs with, given the addresses it will listen on. */
  permissions: (listeners: ListenSpec[]) => Deno.PermissionOptions;
  /** Heartbeat period (default 1 s). */
  heartbeatInterval?: number;
  /** Silence after which a worker counts as hung or silently gone (default 5 s). */
  heartbeatTimeout?: number;
  /** Longest time a worker may take to load the app and listen (default 60 s). */
  startTimeout?: number;
}

type State =
  /** Loading the app and opening its listeners. */
  | "starting"
  /** Accepting and serving. */
  | "serving"
  /** Reached its request limit (or the app asked): accepting only while no one else is. */
  | "limited"
  /** Told to leave; no longer accepting. */
  | "retiring"
  /** Exited or abandoned. */
  | "gone";

interface WorkerRecord {
  id: number;
  worker: Worker;
  state: State;
  /** When it was spawned. */
  startedAt: number;
  /** When it began listening (0 before). */
  servingAt: number;
  /** Last message from it (0 before the first one). */
  lastSeen: number;
  maxRequests: number;
  /** Why it is `limited`. */
  limitReason: LimitReason | undefined;
  /** A restart replaces it: it leaves once the pool is full without it. */
  outgoing: boolean;
  /** A restart waits for this retiring worker to stop accepting before it goes on. */
  holdsRestart: boolean;
  /** When a retiring worker is terminated if it has not left by itself. */
  retireDeadline: number;
  /** Its cell in the balance array (-1 for none). */
  slot: number;
  ready: PromiseWithResolvers<void>;
}

/** A worker that could not start; its message is the worker's own one-line reason. */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

/** A worker that dies sooner than this after its spawn counts as failing at start. */
const EARLY_DEATH = 2000;
const FIRST_BACKOFF = 250;
const MAX_BACKOFF = 30_000;
/** Extra time a retiring worker gets beyond its own deadline before it is terminated. */
const RETIRE_GRACE = 2000;
/** Workers that get a balance slot; any beyond (an operator's TTIN spree) accept ungated. */
const BALANCE_SLOTS = 256;

type RestartOutcome = { ok: true } | { ok: false; reason: string };

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
  readonly #records = new Set<WorkerRecord>();
  #desired: number;
  #nextId = 1;
  #lastSpawn = -Infinity;
  /** No spawn before this time (back-off after failures). */
  #notBefore = 0;
  /** Workers in a row that failed at start. */
  #failures = 0;
  #lastFailure = 0;
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  #started = false;
  #done = false;
  #restarting: Promise<void> | undefined;
  #restartAgain = false;
  #restartWaiter: ((outcome: RestartOutcome) => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #seq = 0;
  #hung = 0;
  #listeners: ListenSpec[];
  /** Shared sockets held open for the workers (`shared` mode). */
  readonly #anchors: Deno.Listener[] = [];
  readonly #finished = Promise.withResolvers<void>();
  #shutdownDeadline: ReturnType<typeof setTimeout> | undefined;
  /** Connection counts shared with the workers; undefined when no listener is load-balanced. */
  #shares: SharedArrayBuffer | undefined;
  #counts: Int32Array | undefined;
  readonly #slots: boolean[] = [];

  /** Creates a supervisor; nothing runs until {@link start}. */
  constructor(config: SupervisorConfig) {
    this.#config = config;
    this.#desired = Math.max(1, config.workers);
    this.#listeners = config.worker.listeners;
  }

  /** Resolves once every worker has exited after {@link shutdown}. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** The addresses workers listen on (port 0 resolved). */
  get addresses(): ListenSpec[] {
    return this.#listeners;
  }

  /** Workers currently running (starting, serving or leaving). */
  get size(): number {
    return this.#records.size;
  }

  /** Workers wanted. */
  get desired(): number {
    return this.#desired;
  }

  /**
   * Starts the pool. The first worker must load the app and listen, or this rejects with its
   * reason. Without a spawn interval it resolves once every initial worker listens (or failed,
   * then being retried); with one, as soon as the first listens, the rest following at the
   * interval.
   */
  async start(): Promise<ListenSpec[]> {
    try {
      this.#listeners = this.#bindPorts(this.#config.worker.listeners);
    } catch (error) {
      this.#closeAnchors();
      throw error;
    }
    const { listenMode } = this.#config.worker;
    if (this.#listeners.some((spec) => sharesAcceptQueue(spec, listenMode))) {
      this.#shares = new SharedArrayBuffer(
        Int32Array.BYTES_PER_ELEMENT * (BALANCE_HEADER + BALANCE_SLOTS),
      );
      this.#counts = new Int32Array(this.#shares);
    }
    this.#heartbeat = setInterval(() => this.#beat(), this.#config.heartbeatInterval ?? 1000);
    this.#lastSpawn = Date.now();
    const first = this.#create();
    try {
      await first.ready.promise;
    } catch (error) {
      this.#stopping = true;
      this.#done = true;
      clearInterval(this.#heartbeat);
      for (const record of this.#records) this.#abandon(record);
      this.#closeAnchors();
      throw error;
    }
    this.#started = true;
    this.#settle();
    if (this.#config.spawnInterval === 0) {
      const initial = [...this.#records].filter((r) => r.state === "starting");
      await Promise.all(initial.map((r) => r.ready.promise.catch(() => {})));
    }
    return this.#listeners;
  }

  /**
   * Graceful restart of every worker, one at a time: a new worker (loading the app afresh)
   * starts and listens, then an old one stops accepting and drains. If a new worker fails to
   * start, the restart stops there and the remaining old workers keep serving. A restart asked
   * for while one runs starts over once it ends (the code may have changed again).
   */
  restart(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#restarting !== undefined) {
      this.#restartAgain = true;
      return this.#restarting;
    }
    const run = async () => {
      do {
        this.#restartAgain = false;
        await this.#rollingRestart();
      } while (this.#restartAgain && !this.#stopping);
    };
    this.#restarting = run().finally(() => {
      this.#restarting = undefined;
    });
    return this.#restarting;
  }

  async #rollingRestart(): Promise<void> {
    // Every worker spawned before now may run the old code.
    const cutoff = this.#nextId;
    const isOld = (r: WorkerRecord) =>
      r.id < cutoff && (r.state === "starting" || r.state === "serving");
    const total = [...this.#records].filter(isOld).length;
    log.info("restart begun: {count} worker(s) to replace, one at a time", { count: total });
    let replaced = 0;
    for (;;) {
      if (this.#stopping) return;
      const old = [...this.#records].filter(isOld);
      if (old.length === 0) break;
      const record = old.find((r) => r.state === "serving") ?? old[0];
      if (record.state === "starting") {
        // Let it come up first, then replace it like the others.
        await record.ready.promise.catch(() => {});
        continue;
      }
      const outcome = await new Promise<RestartOutcome>((resolve) => {
        this.#restartWaiter = resolve;
        record.outgoing = true;
        this.#settle();
      });
      this.#restartWaiter = undefined;
      if (!outcome.ok) {
        if (this.#stopping) return;
        log.error(
          "restart stopped after {replaced} of {count} worker(s): {reason}; the old workers keep serving",
          { replaced, count: total, reason: outcome.reason },
        );
        return;
      }
      replaced++;
    }
    log.info("restart finished: {count} worker(s) replaced", { count: replaced });
  }

  /** One worker more (TTIN). */
  grow(): void {
    if (this.#stopping) return;
    this.#desired++;
    log.info("worker count raised to {count}", { count: this.#desired });
    this.#settle();
  }

  /** One worker fewer, never below one (TTOU). */
  shrink(): void {
    if (this.#stopping) return;
    if (this.#desired <= 1) {
      log.info("worker count stays at 1: it cannot go lower");
      return;
    }
    this.#desired--;
    log.info("worker count lowered to {count}", { count: this.#desired });
    this.#settle();
  }

  /**
   * Graceful shutdown: every worker stops accepting, closes its idle keep-alive connections at
   * once and finishes the requests in flight; after the graceful timeout the rest are
   * terminated. Calling it again (a second signal) terminates at once.
   */
  shutdown(): Promise<void> {
    if (this.#stopping) {
      if (this.#records.size > 0) {
        log.warning("second shutdown request: terminating {count} worker(s) now", {
          count: this.#records.size,
        });
        for (const record of this.#records) this.#abandon(record);
        this.#finish();
      }
      return this.#finished.promise;
    }
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pumpTimer);
    this.#restartWaiter?.({ ok: false, reason: "shutting down" });
    log.info("shutdown begun: {count} worker(s) finishing their requests", {
      count: this.#records.size,
    });
    this.#shutdownDeadline = setTimeout(() => {
      if (this.#records.size === 0) return;
      log.warning("graceful timeout reached: terminating {count} worker(s)", {
        count: this.#records.size,
      });
      for (const record of this.#records) this.#abandon(record);
      this.#finish();
    }, this.#config.gracefulTimeout);
    for (const record of this.#records) {
      if (record.state === "starting") this.#abandon(record);
      else this.#retire(record, "drain", "shutdown");
    }
    if (this.#records.size === 0) this.#finish();
    return this.#finished.promise;
  }

  #finish(): void {
    if (this.#done || this.#records.size > 0) return;
    this.#done = true;
    clearTimeout(this.#shutdownDeadline);
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pumpTimer);
    this.#closeAnchors();
    log.info("shutdown finished");
    this.#finished.resolve();
  }

  // -------------------------------------------------------------------------------------------
  // Sockets

  /**
   * Resolves port 0 to a real port (so every worker, and its permissions, names the same one)
   * and opens each socket the workers will share through one accept queue.
   */
  #bindPorts(specs: ListenSpec[]): ListenSpec[] {
    const { listenMode } = this.#config.worker;
    return specs.map((spec) => {
      if (spec.kind !== "tcp") return spec;
      if (!sharesAcceptQueue(spec, listenMode)) {
        return spec.port === 0 ? { ...spec, port: freePort(spec.hostname) } : spec;
      }
      for (let attempt = 1;; attempt++) {
        const port = spec.port === 0 ? freePort(spec.hostname) : spec.port;
        try {
          const anchor = listenShared({ hostname: spec.hostname, port });
          this.#anchors.push(anchor);
          return { ...spec, port: (anchor.addr as Deno.NetAddr).port };
        } catch (error) {
          // Another process took the free port between the probe and the bind: probe again.
          if (spec.port !== 0 || !(error instanceof Deno.errors.AddrInUse) || attempt === 5) {
            const host = spec.hostname.includes(":") ? `[${spec.hostname}]` : spec.hostname;
            throw new Error(`cannot listen on ${host}:${port}: ${describe(error)}`);
          }
        }
      }
    });
  }

  #closeAnchors(): void {
    for (const anchor of this.#anchors.splice(0)) {
      try {
        anchor.close();
      } catch {
        // Already closed.
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // The pool

  #limitFor(): number {
    const max = this.#config.maxReqsPerChild;
    const min = this.#config.minReqsPerChild;
    if (!Number.isFinite(max) || min === undefined) return max;
    return min + Math.floor(Math.random() * (max - min + 1));
  }

  /** Workers that count towards the pool: starting or serving, and not being replaced. */
  #active(): WorkerRecord[] {
    return [...this.#records].filter((r) =>
      (r.state === "starting" || r.state === "serving") && !r.outgoing
    );
  }

  /**
   * Brings the pool towards its wanted shape after any change: retires workers whose
   * replacements are serving, retires workers beyond the wanted count, and spawns the missing.
   */
  #settle(): void {
    if (this.#stopping || !this.#started) return;
    const serving = this.#active().filter((r) => r.state === "serving").length;
    for (const record of this.#records) {
      // A limited worker keeps accepting only while no other worker does.
      if (record.state === "limited" && serving >= 1) {
        const why = record.limitReason === "app"
          ? "the app called retireWorker()"
          : `its limit of ${record.maxRequests} requests was reached`;
        this.#retire(record, "recycle", why);
      }
      // An old worker leaves a restart once the pool is full without it.
      if (record.outgoing && record.state === "serving" && serving >= this.#desired) {
        this.#retire(record, "recycle", "restart");
      }
    }
    const active = this.#active();
    if (active.length > this.#desired) {
      // Newest first, and workers still starting before serving ones.
      const extra = active.sort((
        a,
        b,
      ) => (a.state === b.state ? b.id - a.id : a.state === "starting" ? -1 : 1))
        .slice(0, active.length - this.#desired);
      for (const record of extra) {
        if (record.state === "starting") {
          log.info("worker {id} stopped before it served: fewer workers wanted", { id: record.id });
          this.#abandon(record);
        } else {
          this.#retire(record, "recycle", "fewer workers wanted");
        }
      }
    }
    this.#pump();
  }

  /** Spawns missing workers, one per spawn interval and not before the back-off allows. */
  #pump(): void {
    if (this.#stopping || this.#pumpTimer !== undefined) return;
    while (this.#active().length < this.#desired) {
      const at = Math.max(this.#lastSpawn + this.#config.spawnInterval, this.#notBefore);
      const wait = at - Date.now();
      if (wait > 0) {
        this.#pumpTimer = setTimeout(() => {
          this.#pumpTimer = undefined;
          this.#pump();
        }, wait);
        return;
      }
      this.#lastSpawn = Date.now();
      this.#create();
    }
  }

  #create(): WorkerRecord {
    const id = this.#nextId++;
    const worker = new Worker(this.#config.workerUrl, {
      type: "module",
      name: `starlight-worker-${id}`,
      deno: { permissions: this.#config.permissions(this.#listeners) },
    } as WorkerOptions);
    const record: WorkerRecord = {
      id,
      worker,
      state: "starting",
      startedAt: Date.now(),
      servingAt: 0,
      lastSeen: 0,
      maxRequests: this.#limitFor(),
      limitReason: undefined,
      outgoing: false,
      holdsRestart: false,
      retireDeadline: 0,
      slot: this.#takeSlot(),
      ready: Promise.withResolvers<void>(),
    };
    record.ready.promise.catch(() => {});
    this.#records.add(record);
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      try {
        this.#onMessage(record, event.data);
      } catch (error) {
        log.error("worker {id}: message not handled: {reason}", {
          id: record.id,
          reason: describe(error),
        });
      }
    });
    worker.addEventListener("error", (event: ErrorEvent) => {
      // Without this the uncaught error would end the whole process.
      event.preventDefault();
      this.#died(record, `uncaught ${(event.message || "error").replace(/^Uncaught /, "")}`);
    });
    worker.addEventListener("messageerror", () => {});
    const config: WorkerConfig = {
      ...this.#config.worker,
      listeners: this.#listeners,
      id,
      maxRequests: record.maxRequests,
      balance: this.#shares !== undefined && record.slot >= 0
        ? { shares: this.#shares, slot: record.slot }
        : undefined,
    };
    this.#send(record, { type: "start", config });
    return record;
  }

  #send(record: WorkerRecord, message: ToWorker): void {
    try {
      record.worker.postMessage(message);
    } catch {
      // The worker is already gone; the heartbeat notices.
    }
  }

  #onMessage(record: WorkerRecord, message: FromWorker): void {
    if (record.state === "gone" || message === null || typeof message !== "object") return;
    record.lastSeen = Date.now();
    switch (message.type) {
      case "listening":
        this.#listening(record);
        break;
      case "failed":
        this.#died(record, String(message.message));
        break;
      case "limit":
        this.#limited(record, message.reason);
        break;
      case "exiting":
        this.#died(record, String(message.reason));
        break;
      case "crashed":
        this.#died(record, String(message.reason), true);
        break;
      case "log": {
        const text = String(message.message);
        if (message.level === "error") {
          log.error("worker {id}: {message}", { id: record.id, message: text });
        } else if (message.level === "warning") {
          log.warning("worker {id}: {message}", { id: record.id, message: text });
        } else log.info("worker {id}: {message}", { id: record.id, message: text });
        break;
      }
      case "access":
        writeAccess(String(message.line));
        break;
      case "closed":
        this.#releaseRestart(record);
        break;
      case "retired":
        if (record.state === "retiring") {
          log.info("worker {id} retired", { id: record.id });
          this.#remove(record);
        }
        break;
      case "pong":
        break;
    }
  }

  #listening(record: WorkerRecord): void {
    if (record.state !== "starting") return;
    record.state = "serving";
    record.servingAt = Date.now();
    const limit = Number.isFinite(record.maxRequests)
      ? ` (request limit ${record.maxRequests})`
      : "";
    log.info(`worker {id} started${limit}`, { id: record.id });
    record.ready.resolve();
    this.#publishAccepting();
    if (this.#stopping) {
      this.#retire(record, "drain", "shutdown");
      return;
    }
    this.#settle();
  }

  #limited(record: WorkerRecord, reason: LimitReason): void {
    if (record.state !== "serving") return;
    record.state = "limited";
    record.limitReason = reason;
    // Retired at once if another worker accepts, else as soon as its replacement does.
    this.#settle();
    if (record.state === "limited") {
      log.info("worker {id} keeps accepting until its replacement listens: no other worker does", {
        id: record.id,
      });
    }
  }

  #retire(record: WorkerRecord, mode: RetireMode, reason: string): void {
    if (record.state === "retiring" || record.state === "gone") {
      if (record.state === "retiring" && mode === "drain") {
        this.#send(record, {
          type: "retire",
          mode,
          deadline: Date.now() + this.#config.gracefulTimeout,
        });
      }
      return;
    }
    if (record.state === "starting") {
      this.#abandon(record);
      return;
    }
    const wasOutgoing = record.outgoing;
    record.state = "retiring";
    record.outgoing = false;
    record.retireDeadline = Date.now() + this.#config.gracefulTimeout + RETIRE_GRACE;
    log.info("worker {id} retiring: {reason}", { id: record.id, reason });
    this.#publishAccepting();
    this.#send(record, {
      type: "retire",
      mode,
      deadline: Date.now() + this.#config.gracefulTimeout,
    });
    // The restart goes on (and restart() resolves) once this worker takes no new connection,
    // so a client that connects afterwards always reaches new code.
    record.holdsRestart = wasOutgoing;
  }

  /** A retiring worker stopped accepting (or is gone): a restart waiting for it goes on. */
  #releaseRestart(record: WorkerRecord): void {
    if (!record.holdsRestart) return;
    record.holdsRestart = false;
    this.#restartWaiter?.({ ok: true });
  }

  /**
   * A worker failed: replace it, backing off if it failed at start or right after. With
   * `graceful` (an uncaught error it reported itself) a serving worker finishes its requests
   * while the replacement starts; otherwise it is gone already.
   */
  #died(record: WorkerRecord, reason: string, graceful = false): void {
    if (record.state === "gone") return;
    const state = record.state;
    const wasOutgoing = record.outgoing;
    if (state === "retiring") {
      if (graceful) {
        log.error("worker {id} (retiring) crashed: {reason}", { id: record.id, reason });
      } else {
        log.info("worker {id} ended while retiring: {reason}", { id: record.id, reason });
        this.#remove(record);
      }
      return;
    }
    record.ready.reject(new WorkerStartError(reason));
    // A serving worker that reported its own crash finishes its requests; the rest are gone.
    const leave = () => {
      if (graceful && state !== "starting") {
        record.outgoing = false;
        this.#retire(record, "recycle", "it crashed");
      } else {
        this.#remove(record);
      }
    };
    if (this.#stopping || (!this.#started && state === "starting")) {
      leave(); // start() reports a first worker's failure itself.
      return;
    }
    const now = Date.now();
    const early = state === "starting" ||
      now - (record.servingAt || record.startedAt) < EARLY_DEATH;
    const what = state === "starting"
      ? "could not start"
      : early
      ? "crashed right after start"
      : "crashed";
    let restartStopped = false;
    if (this.#restartWaiter !== undefined && !wasOutgoing && early) {
      // The new code does not start: keep the old workers, try no further.
      for (const r of this.#records) r.outgoing = false;
      restartStopped = true;
    }
    const missing = this.#active().filter((r) => r !== record).length < this.#desired;
    let retry = "";
    if (early) {
      // Workers dying together (spawned before the last failure) count as one failure.
      if (record.startedAt > this.#lastFailure || this.#failures === 0) this.#failures++;
      this.#lastFailure = now;
      const delay = Math.min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (this.#failures - 1));
      this.#notBefore = now + delay;
      if (missing) {
        retry = ` (next attempt in ${delay / 1000} s, ${this.#failures} failure(s) in a row)`;
      }
    } else if (missing) {
      retry = ", replacing it";
    }
    if (graceful && state !== "starting") retry += " (it finishes the requests it has)";
    log.error(`worker {id} ${what}${retry}: {reason}`, { id: record.id, reason });
    leave();
    if (wasOutgoing) this.#restartWaiter?.({ ok: true });
    if (restartStopped) {
      this.#restartWaiter?.({ ok: false, reason: "the new workers do not start" });
    }
    this.#settle();
  }

  /** Forgets a worker that is leaving now, terminating its thread if it still runs. */
  #remove(record: WorkerRecord): void {
    if (record.state === "gone") return;
    record.state = "gone";
    record.outgoing = false;
    try {
      record.worker.terminate();
    } catch {
      // Already ended.
    }
    this.#records.delete(record);
    this.#freeSlot(record);
    this.#publishAccepting();
    this.#releaseRestart(record);
    record.ready.reject(new WorkerStartError(`worker ${record.id} stopped before it listened`));
    if (this.#stopping) this.#finish();
  }

  #takeSlot(): number {
    if (this.#counts === undefined) return -1;
    const slot = this.#slots.indexOf(false);
    const taken = slot >= 0 ? slot : this.#slots.length < BALANCE_SLOTS ? this.#slots.length : -1;
    if (taken < 0) return -1;
    this.#slots[taken] = true;
    Atomics.store(this.#counts, BALANCE_HEADER + taken, 0);
    Atomics.store(this.#counts, 1, this.#slots.length);
    return taken;
  }

  #freeSlot(record: WorkerRecord): void {
    if (this.#counts === undefined || record.slot < 0) return;
    // A stuck worker cannot clear its own count: do it for it.
    Atomics.store(this.#counts, BALANCE_HEADER + record.slot, 0);
    this.#slots[record.slot] = false;
    record.slot = -1;
  }

  /** Tells the workers how many of them accept, for their fair share. */
  #publishAccepting(): void {
    if (this.#counts === undefined) return;
    let accepting = 0;
    for (const r of this.#records) if (r.state === "serving" || r.state === "limited") accepting++;
    Atomics.store(this.#counts, 0, accepting);
  }

  /** Drops a worker without a grace period (shutdown forced, start abandoned). */
  #abandon(record: WorkerRecord): void {
    this.#remove(record);
  }

  #beat(): void {
    const now = Date.now();
    const silence = this.#config.heartbeatTimeout ?? 5000;
    const startLimit = this.#config.startTimeout ?? 60_000;
    if (this.#failures > 0 && now - this.#lastFailure > EARLY_DEATH) {
      // A worker serving steadily since the last failure ends the run of failures.
      const healthy = [...this.#records].some((r) =>
        r.servingAt > this.#lastFailure && now - r.servingAt >= EARLY_DEATH
      );
      if (healthy) this.#failures = 0;
    }
    for (const record of [...this.#records]) {
      if (record.state === "retiring" && now > record.retireDeadline) {
        log.warning("worker {id} did not finish retiring in time: terminated", { id: record.id });
        this.#remove(record);
        continue;
      }
      if (record.state === "starting" && now - record.startedAt > startLimit) {
        this.#died(record, `did not start listening within ${startLimit / 1000} s`);
        continue;
      }
      if (record.lastSeen !== 0 && now - record.lastSeen > silence) {
        this.#hung++;
        log.error(
          "worker {id} has not answered heartbeats for {seconds} s: it is stuck in synchronous code " +
            "(or its thread ended without a word). It is replaced, but Deno cannot stop a thread " +
            "stuck in synchronous JavaScript: it keeps a CPU core busy and its open connections " +
            "unanswered until the server process restarts ({hung} such worker(s) so far)",
          { id: record.id, seconds: Math.round((now - record.lastSeen) / 1000), hung: this.#hung },
        );
        this.#died(record, "no heartbeat");
        continue;
      }
      this.#send(record, { type: "ping", seq: ++this.#seq });
    }
  }
}

/** A port free on `hostname` right now. */
function freePort(hostname: string): number {
  const probe = Deno.listen({ hostname, port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
