/**
 * A supervisor over stand-in workers and a fake clock: each worker is a recorded transport that
 * the test makes speak (`listening`, `crashed`, …), time moves only when the test says so. No
 * thread, no socket, no sleep.
 *
 * @module
 */

import type { Clock, TimerId } from "../../lib/pool/config.ts";
import type { FromWorker, ToWorker } from "../../lib/pool/protocol.ts";
import { Supervisor, type SupervisorConfig } from "../../lib/pool/supervisor.ts";
import type { TransportEvents, WorkerLauncher } from "../../lib/pool/transport.ts";

/** A clock that moves only by {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #next = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id as unknown as TimerId;
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as unknown as number);
  }

  /** Moves time forward by `ms`, firing due timers in order (and letting each turn run). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets queued microtasks (the supervisor's turns) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** One stand-in worker: what it was sent, and a voice. */
export class StandIn {
  readonly id: number;
  readonly sent: ToWorker[] = [];
  terminated = false;
  /** Answers pings by itself (false: it hangs). */
  answersPings = true;
  /** What it reports in pongs. */
  requests = 0;
  heap = 0;
  readonly #events: TransportEvents;

  constructor(id: number, events: TransportEvents) {
    this.id = id;
    this.#events = events;
  }

  /** Sends `message` to the supervisor and lets it take it. */
  async say(message: FromWorker | Record<string, unknown>): Promise<void> {
    this.#events.message(message);
    await settle();
  }

  /** Ends as a thread does when an error escapes it. */
  async exit(reason: string): Promise<void> {
    this.#events.exit(reason);
    await settle();
  }

  /** The retire messages it got. */
  retires(): ToWorker[] {
    return this.sent.filter((m) => m.type === "retire");
  }

  receive(message: ToWorker): void {
    this.sent.push(message);
    if (message.type === "ping" && this.answersPings && !this.terminated) {
      queueMicrotask(() =>
        this.#events.message({
          type: "pong",
          seq: message.seq,
          requests: this.requests,
          heap: this.heap,
        })
      );
    }
  }
}

/** Records every worker it starts. */
export class StandInLauncher implements WorkerLauncher {
  readonly stopsStuckWorkers = false;
  readonly workers: StandIn[] = [];

  spawn(request: { id: number }, events: TransportEvents) {
    const worker = new StandIn(request.id, events);
    this.workers.push(worker);
    return {
      send: (message: ToWorker) => worker.receive(message),
      terminate: () => {
        worker.terminated = true;
      },
      kill: () => {
        worker.terminated = true;
      },
    };
  }

  /** The worker with `id`. */
  get(id: number): StandIn {
    const worker = this.workers.find((w) => w.id === id);
    if (worker === undefined) throw new Error(`no worker ${id} was spawned`);
    return worker;
  }
}

/** A supervisor of stand-ins on a fake clock; `config` overrides. */
export function standInPool(config: Partial<SupervisorConfig> = {}) {
  const clock = new FakeClock();
  const launcher = new StandInLauncher();
  const supervisor = new Supervisor({
    workers: 2,
    spawnInterval: 0,
    gracefulTimeout: 30_000,
    maxReqsPerChild: Infinity,
    minReqsPerChild: undefined,
    worker: {
      app: "file:///app.ts",
      listeners: [],
      listenMode: "shared",
      timeout: 300_000,
      headerTimeout: 30_000,
      keepaliveTimeout: 5000,
      maxKeepaliveRequests: 1000,
      maxRequestBody: Infinity,
      maxWsMessage: Infinity,
      reasonPhrases: {},
      serverSoftware: "test",
      development: false,
      accessLog: false,
    },
    launcher,
    permissions: () => "none",
    clock,
    ...config,
  });
  return { supervisor, clock, launcher };
}

/** Starts `supervisor`, every initial worker (ids 1…`count`) saying it listens. */
export async function started(
  pool: ReturnType<typeof standInPool>,
  count = 2,
): Promise<void> {
  const starting = pool.supervisor.start();
  await settle();
  await pool.launcher.get(1).say({ type: "listening" });
  for (let id = 2; id <= count; id++) await pool.launcher.get(id).say({ type: "listening" });
  await starting;
}
