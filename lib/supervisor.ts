/**
 * The supervisor: keeps the pool of workers at its size, replaces workers that die, hang, or
 * reach their request limit (always starting the replacement before the old one stops
 * accepting when it is the last one accepting), restarts them one at a time, and shuts them
 * down gracefully. It never serves requests itself.
 *
 * @module
 */

import { log, writeAccess } from "./log.ts";
import type { ListenSpec } from "./listen_spec.ts";
import type { FromWorker, ToWorker, WorkerConfig } from "./worker_protocol.ts";

/** How a pool is run. Times are in milliseconds. */
export interface SupervisorConfig {
  /** Workers to keep running. */
  workers: number;
  /** Least time between two spawns. */
  spawnInterval: number;
  /** How long a graceful shutdown or retirement may take before workers are terminated. */
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
  /** Heartbeat period. */
  heartbeatInterval?: number;
  /** Silence after which a worker counts as dead or hung. */
  heartbeatTimeout?: number;
  /** Longest time a worker may take to load the app and listen. */
  startTimeout?: number;
}

type State = "starting" | "serving" | "limited" | "retiring" | "gone";

interface Record {
  id: number;
  worker: Worker;
  state: State;
  startedAt: number;
  lastSeen: number;
  maxRequests: number;
  /** The worker this one replaces; it is retired once this one listens. */
  replaces: Record | undefined;
  ready: PromiseWithResolvers<void>;
  gone: PromiseWithResolvers<void>;
}

/** A worker that could not start; its message is the worker's own one-line reason. */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

const EARLY_DEATH = 2000;
const MAX_BACKOFF = 30_000;

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
  readonly #records = new Set<Record>();
  #desired: number;
  #nextId = 1;
  #lastSpawn = 0;
  #spawnChain: Promise<void> = Promise.resolve();
  #failures = 0;
  #stopping = false;
  #restarting: Promise<void> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #seq = 0;
  #listeners: ListenSpec[];
  readonly #finished = Promise.withResolvers<void>();
  #refillTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates a supervisor; nothing runs until {@link start}. */
  constructor(config: SupervisorConfig) {
    this.#config = config;
    this.#desired = config.workers;
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

  /** Workers currently running (starting, serving or retiring). */
  get size(): number {
    return this.#records.size;
  }

  /** Workers wanted. */
  get desired(): number {
    return this.#desired;
  }

  /**
   * Starts the pool. The first worker must load the app and listen, or this rejects with its
   * reason; the rest start after it (spaced by the spawn interval).
   */
  async start(): Promise<ListenSpec[]> {
    this.#heartbeat = setInterval(() => this.#beat(), this.#config.heartbeatInterval ?? 1000);
    const first = await this.#spawn(undefined);
    try {
      await first.ready.promise;
    } catch (error) {
      clearInterval(this.#heartbeat);
      this.#stopping = true;
      throw error;
    }
    this.#started = true;
    const rest: Promise<void>[] = [];
    for (let i = 1; i < this.#desired; i++) {
      rest.push(this.#spawn(undefined).then((r) => r.ready.promise).catch(() => {}));
    }
    await Promise.all(rest);
    return this.#listeners;
  }

  /**
   * Graceful restart of every worker, one at a time: a new worker (loading the app afresh)
   * starts and listens, then the old one stops accepting and drains. If a new worker fails to
   * start, the restart stops there and the remaining old workers keep serving.
   */
  restart(): Promise<void> {
    return this.#restarting ??= this.#rollingRestart().finally(() => {
      this.#restarting = undefined;
    });
  }

  async #rollingRestart(): Promise<void> {
    const old = [...this.#records].filter((r) => r.state === "serving" || r.state === "limited");
    log.info("restart begun: {count} worker(s) to replace", { count: old.length });
    for (const record of old) {
      if (this.#stopping) return;
      if (record.state === "gone" || record.state === "retiring") continue;
      const fresh = await this.#spawn(record);
      try {
        await fresh.ready.promise;
      } catch (error) {
        log.error("restart stopped: worker {id} could not start: {reason}; the old workers keep serving", {
          id: fresh.id,
          reason: (error as Error).message,
        });
        return;
      }
    }
    log.info("restart finished");
  }

  /** One worker more (TTIN). */
  grow(): void {
    if (this.#stopping) return;
    this.#desired++;
    log.info("workers: {count}", { count: this.#desired });
    this.#refill();
  }

  /** One worker fewer, never below one (TTOU). */
  shrink(): void {
    if (this.#stopping || this.#desired <= 1) return;
    this.#desired--;
    log.info("workers: {count}", { count: this.#desired });
    const victim = [...this.#records].reverse().find((r) => r.state === "serving" || r.state === "starting");
    if (victim !== undefined) this.#retire(victim);
  }

  /**
   * Graceful shutdown: every worker stops accepting, finishes the requests in flight and closes
   * idle connections; after the graceful timeout the rest are terminated. Calling it again
   * (a second signal) terminates at once.
   */
  shutdown(): Promise<void> {
    if (this.#stopping) {
      log.warning("second shutdown request: terminating workers now");
      for (const record of this.#records) this.#gone(record, undefined);
      return this.#finished.promise;
    }
    this.#stopping = true;
    log.info("shutdown begun");
    clearInterval(this.#heartbeat);
    clearTimeout(this.#refillTimer);
    const deadline = setTimeout(() => {
      if (this.#records.size > 0) log.warning("graceful timeout reached: terminating {count} worker(s)", { count: this.#records.size });
      for (const record of this.#records) this.#gone(record, undefined);
    }, this.#config.gracefulTimeout);
    for (const record of this.#records) this.#retire(record);
    if (this.#records.size === 0) this.#finish();
    this.#finished.promise.then(() => clearTimeout(deadline));
    return this.#finished.promise;
  }

  #finish(): void {
    log.info("shutdown finished");
    this.#finished.resolve();
  }

  #limitFor(): number {
    const max = this.#config.maxReqsPerChild;
    const min = this.#config.minReqsPerChild;
    if (!Number.isFinite(max) || min === undefined) return max;
    return min + Math.floor(Math.random() * (max - min + 1));
  }

  /** Spawns a worker, respecting the spawn interval; `replaces` is retired once it listens. */
  #spawn(replaces: Record | undefined, delay = 0): Promise<Record> {
    const spawned = this.#spawnChain.then(async () => {
      const wait = Math.max(delay, this.#lastSpawn + this.#config.spawnInterval - Date.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#lastSpawn = Date.now();
      return this.#create(replaces);
    });
    this.#spawnChain = spawned.then(() => {}, () => {});
    return spawned;
  }

  #create(replaces: Record | undefined): Record {
    const id = this.#nextId++;
    const worker = new Worker(this.#config.workerUrl, {
      type: "module",
      name: `starlight-worker-${id}`,
      deno: { permissions: this.#config.permissions(this.#listeners) },
    } as WorkerOptions);
    const now = Date.now();
    const record: Record = {
      id,
      worker,
      state: "starting",
      startedAt: now,
      lastSeen: now,
      maxRequests: this.#limitFor(),
      replaces,
      ready: Promise.withResolvers<void>(),
      gone: Promise.withResolvers<void>(),
    };
    record.ready.promise.catch(() => {});
    this.#records.add(record);
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.#onMessage(record, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#died(record, `uncaught ${event.message}`);
    };
    worker.onmessageerror = () => {};
    const config: WorkerConfig = {
      ...this.#config.worker,
      listeners: this.#listeners,
      id,
      maxRequests: record.maxRequests,
    };
    this.#send(record, { type: "start", config });
    return record;
  }

  #send(record: Record, message: ToWorker): void {
    try {
      record.worker.postMessage(message);
    } catch {
      // The worker is already gone; its death is handled by the heartbeat.
    }
  }

  #onMessage(record: Record, message: FromWorker): void {
    record.lastSeen = Date.now();
    switch (message.type) {
      case "listening":
        this.#listening(record, message.addresses);
        break;
      case "failed":
        this.#failedToStart(record, message.message);
        break;
      case "limit":
        this.#limited(record);
        break;
      case "log":
        if (message.level === "error") log.error("worker {id}: {message}", { id: record.id, message: message.message });
        else if (message.level === "warning") log.warning("worker {id}: {message}", { id: record.id, message: message.message });
        else log.info("worker {id}: {message}", { id: record.id, message: message.message });
        break;
      case "access":
        writeAccess(message.line);
        break;
      case "retired":
        this.#gone(record, undefined);
        break;
      case "pong":
        break;
    }
  }

  #listening(record: Record, addresses: ListenSpec[]): void {
    if (record.state !== "starting") return;
    record.state = "serving";
    if (this.#listeners.some((spec) => spec.kind === "tcp" && spec.port === 0)) this.#listeners = addresses;
    log.info("worker {id} started (limit {limit} requests)", {
      id: record.id,
      limit: Number.isFinite(record.maxRequests) ? record.maxRequests : "none",
    });
    record.ready.resolve();
    if (record.replaces !== undefined) {
      const old = record.replaces;
      record.replaces = undefined;
      if (old.state !== "gone") this.#retire(old);
    }
    if (this.#stopping) this.#retire(record);
  }

  #failedToStart(record: Record, reason: string): void {
    record.ready.reject(new WorkerStartError(reason));
    this.#gone(record, reason);
  }

  #limited(record: Record): void {
    if (record.state !== "serving") return;
    record.state = "limited";
    log.info("worker {id} reached its limit of {limit} requests", { id: record.id, limit: record.maxRequests });
    if (this.#stopping) return;
    const othersAccepting = [...this.#records].some((r) => r !== record && r.state === "serving");
    if (othersAccepting) {
      this.#retire(record);
      this.#spawn(undefined);
    } else {
      this.#spawn(record);
    }
  }

  #retire(record: Record): void {
    if (record.state === "retiring" || record.state === "gone") return;
    if (record.state === "starting") {
      this.#gone(record, undefined);
      return;
    }
    record.state = "retiring";
    log.info("worker {id} retiring", { id: record.id });
    this.#send(record, { type: "retire", deadline: Date.now() + this.#config.gracefulTimeout });
  }

  /** A worker died unexpectedly: replace it, backing off if it keeps dying at start. */
  #died(record: Record, reason: string): void {
    if (record.state === "gone") return;
    const wasRetiring = record.state === "retiring";
    const early = Date.now() - record.startedAt < EARLY_DEATH;
    record.ready.reject(new WorkerStartError(`worker ${record.id} died at start: ${reason}`));
    this.#gone(record, undefined);
    if (wasRetiring) {
      log.info("worker {id} ended while retiring: {reason}", { id: record.id, reason });
      return;
    }
    log.warning("worker {id} died: {reason}", { id: record.id, reason });
    this.#failures = early ? this.#failures + 1 : 0;
    this.#refill();
  }

  #gone(record: Record, failure: string | undefined): void {
    if (record.state === "gone") return;
    const wasStarting = record.state === "starting";
    record.state = "gone";
    record.worker.terminate();
    this.#records.delete(record);
    record.gone.resolve();
    if (failure !== undefined) {
      // Before the pool is up, the caller reports the reason (one line, then exit).
      if (this.#started) log.error("worker {id} could not start: {reason}", { id: record.id, reason: failure });
      this.#failures++;
      if (record.replaces !== undefined && record.replaces.state === "limited") {
        // The limited worker keeps serving (it is the only one accepting) until a replacement works.
        this.#spawn(record.replaces, this.#backoff());
        return;
      }
      if (record.replaces === undefined && wasStarting && this.#started) this.#refill();
      return;
    }
    if (this.#stopping && this.#records.size === 0) this.#finish();
  }

  #backoff(): number {
    return this.#failures === 0 ? 0 : Math.min(MAX_BACKOFF, 250 * 2 ** (this.#failures - 1));
  }

  /** Spawns workers until the pool has the wanted number accepting or about to. */
  #refill(): void {
    if (this.#stopping) return;
    clearTimeout(this.#refillTimer);
    const active = [...this.#records].filter((r) => r.state === "starting" || r.state === "serving").length;
    const missing = this.#desired - active;
    if (missing <= 0) return;
    const delay = this.#backoff();
    if (delay > 0) {
      log.warning("workers keep dying at start; next attempt in {seconds} s", { seconds: delay / 1000 });
    }
    this.#refillTimer = setTimeout(() => {
      const now = [...this.#records].filter((r) => r.state === "starting" || r.state === "serving").length;
      for (let i = now; i < this.#desired; i++) this.#spawn(undefined);
    }, delay);
  }

  #beat(): void {
    const now = Date.now();
    const silence = this.#config.heartbeatTimeout ?? 5000;
    const startLimit = this.#config.startTimeout ?? 60_000;
    for (const record of this.#records) {
      if (record.state === "starting") {
        if (now - record.startedAt > startLimit) {
          this.#failedToStart(record, `did not start listening within ${startLimit / 1000} s`);
        }
        continue;
      }
      if (now - record.lastSeen > silence) {
        log.warning(
          "worker {id} stopped answering heartbeats for {seconds} s: it exited by itself or is stuck in synchronous code. It is replaced; a stuck thread keeps its CPU busy until the process restarts",
          { id: record.id, seconds: Math.round((now - record.lastSeen) / 1000) },
        );
        this.#died(record, "no heartbeat");
        continue;
      }
      this.#send(record, { type: "ping", seq: ++this.#seq });
    }
  }
}
