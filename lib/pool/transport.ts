/**
 * How the supervisor reaches a worker, whatever the worker is: a Web Worker (thread) today, a
 * `deno` child process over stdio pipes later. The supervisor only spawns, sends, terminates or
 * kills, and hears messages and the end; everything a worker says arrives as untrusted data
 * (checked by `parseFromWorker`).
 *
 * @module
 */

import type { ToWorker } from "./protocol.ts";

/** What a transport reports about its worker. */
export interface TransportEvents {
  /** A message from the worker (unchecked). */
  message(data: unknown): void;
  /**
   * The worker ended (or, for a thread, failed in a way that ends it); `reason` is one line.
   * Reported at most once.
   */
  exit(reason: string): void;
}

/** One running worker, from the supervisor's side. */
export interface WorkerTransport {
  /** Sends a message; dropped silently once the worker is gone. */
  send(message: ToWorker): void;
  /**
   * Asks the worker to end now (thread: `Worker.terminate()`; process: SIGTERM). A thread stuck
   * in synchronous code cannot be stopped this way.
   */
  terminate(): void;
  /** Ends it without asking (thread: as terminate; process: SIGKILL). */
  kill(): void;
}

/** What a new worker is started with. */
export interface SpawnRequest {
  /** The worker's id (for its name). */
  id: number;
  /** The permissions the app gets. */
  permissions: Deno.PermissionOptions;
}

/** Starts workers of one kind. */
export interface WorkerLauncher {
  /** Whether `terminate` stops a worker stuck in synchronous code (a process; not a thread). */
  readonly stopsStuckWorkers: boolean;
  /** Starts a worker; `events` hears from it until it ends. */
  spawn(request: SpawnRequest, events: TransportEvents): WorkerTransport;
}

/**
 * Web Workers (threads in this process): the worker module runs with the permissions given, and
 * its uncaught errors are kept from ending the whole process.
 *
 * @example
 * ```ts ignore
 * const launcher = new ThreadLauncher(new URL("./thread_worker.ts", import.meta.url));
 * const worker = launcher.spawn({ id: 1, permissions: "none" }, {
 *   message: (data) => console.log(data),
 *   exit: (reason) => console.log("gone:", reason),
 * });
 * worker.send({ type: "ping", seq: 1 });
 * ```
 */
export class ThreadLauncher implements WorkerLauncher {
  /** `Worker.terminate()` does not interrupt synchronous code. */
  readonly stopsStuckWorkers = false;
  readonly #url: URL;

  /** Workers run the module at `url`. */
  constructor(url: URL) {
    this.#url = url;
  }

  /** Starts a thread worker. */
  spawn(request: SpawnRequest, events: TransportEvents): WorkerTransport {
    const worker = new Worker(this.#url, {
      type: "module",
      name: `starlight-worker-${request.id}`,
      deno: { permissions: request.permissions },
    } as WorkerOptions);
    let ended = false;
    worker.addEventListener("message", (event: MessageEvent) => events.message(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => {
      // Without this the uncaught error would end the whole process.
      event.preventDefault();
      if (ended) return;
      ended = true;
      events.exit(`uncaught ${(event.message || "error").replace(/^Uncaught /, "")}`);
    });
    worker.addEventListener("messageerror", () => {});
    const end = () => {
      ended = true;
      try {
        worker.terminate();
      } catch {
        // Already ended.
      }
    };
    return {
      send(message) {
        if (ended) return;
        try {
          worker.postMessage(message);
        } catch {
          // The worker is already gone; the heartbeat notices.
        }
      },
      terminate: end,
      kill: end,
    };
  }
}
