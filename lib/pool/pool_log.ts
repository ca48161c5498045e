/**
 * What the supervisor says about its workers, one line per event. Crash and death lines go
 * through a {@link LogDigest}: a crash loop is summarised, not repeated. Text that came from a
 * worker is escaped before it gets here (`worker_lines.ts`).
 *
 * @module
 */

import { log } from "../log.ts";
import type { RetireCause, WorkerView } from "./handle.ts";
import { LogDigest } from "./log_digest.ts";

const MIB = 1024 * 1024;

/** How a worker that ended unasked is reported. */
export interface Death {
  /** `could not start`, `crashed right after start`, `crashed`. */
  what: string;
  /** What happens next: a back-off, an immediate replacement, or nothing (none missing). */
  retry: { delay: number; failures: number } | "replacing" | undefined;
  /** Why it ended, one escaped line. */
  reason: string;
}

/**
 * Why a worker retires, as the log says it.
 *
 * @example
 * ```ts
 * import { retireText } from "./pool_log.ts";
 * retireText("request-limit", 3); // "its limit of 3 requests was reached"
 * ```
 */
export function retireText(cause: RetireCause, maxRequests: number): string {
  switch (cause) {
    case "request-limit":
      return `its limit of ${maxRequests} requests was reached`;
    case "app":
      return "the app called retireWorker()";
    case "crash":
      return "it crashed";
    case "memory":
      return "its heap passed --max-worker-memory";
    case "fewer-workers":
      return "fewer workers wanted";
    default:
      return cause;
  }
}

/**
 * The supervisor's lines about its workers' lives.
 *
 * @example
 * ```ts ignore
 * const say = new PoolLog();
 * say.started(1, Infinity); // worker 1 started
 * ```
 */
export class PoolLog {
  /** Crash and death lines: 5 per 10 s, then one summary per 10 s while the loop goes on. */
  readonly #deaths = new LogDigest(5, 10_000);
  /** Workers whose wait for a replacement was logged. */
  readonly #waiting = new Set<number>();

  /** Says once for each worker that wants out but waits, being the only one accepting. */
  waits(workers: readonly { handle: WorkerView; maxRequests: number }[]): void {
    for (const { handle, maxRequests } of workers) {
      if (handle.state !== "limited" || this.#waiting.has(handle.id)) continue;
      if (handle.cause !== "request-limit" && handle.cause !== "app") continue;
      this.#waiting.add(handle.id);
      log.info("worker {id} keeps accepting until its replacement listens: {reason}", {
        id: handle.id,
        reason: retireText(handle.cause, maxRequests),
      });
    }
  }

  /** A worker is gone. */
  forget(id: number): void {
    this.#waiting.delete(id);
  }

  /** A worker listens. */
  started(id: number, maxRequests: number): void {
    const limit = Number.isFinite(maxRequests) ? ` (request limit ${maxRequests})` : "";
    log.info(`worker {id} started${limit}`, { id });
  }

  /** A worker is told to leave, and why. */
  /** TERM with --shutdown-delay: the health path says 503 first. */
  shutdownDelayed(seconds: number): void {
    log.info("shutdown in {seconds} s: the health path answers 503 meanwhile", { seconds });
  }

  /** No worker accepts (all crashed or failing), or one is back. */
  standIn(active: boolean): void {
    if (active) log.warning("no worker is serving: new connections are answered 503 until one is");
    else log.info("a worker serves again");
  }

  retiring(id: number, reason: string): void {
    log.info("worker {id} retiring: {reason}", { id, reason });
  }

  /** A worker left; `cut`: connections it had to cut at the deadline. */
  retired(id: number, cut: number): void {
    if (cut === 0) log.info("worker {id} retired", { id });
    else {
      log.warning("worker {id} retired: graceful timeout reached, {cut} connection(s) cut", {
        id,
        cut,
      });
    }
  }

  /** A retiring worker ended before it said it was done. */
  endedWhileRetiring(id: number, reason: string): void {
    log.info("worker {id} ended while retiring: {reason}", { id, reason });
  }

  /** A worker's heap passed `--max-worker-memory`. */
  overMemory(id: number, heap: number, limit: number): void {
    log.warning(
      "worker {id} is to be replaced: its heap ({heap} MiB) passed --max-worker-memory ({limit} MiB)",
      { id, heap: Math.round(heap / MIB), limit: Math.round(limit / MIB) },
    );
  }

  /** A worker stopped answering heartbeats; a process can be killed, a thread cannot. */
  hung(id: number, seconds: number, hung: number, killable: boolean): void {
    if (killable) {
      log.error(
        "worker {id} has not answered heartbeats for {seconds} s (--worker-timeout): it is " +
          "stuck in synchronous code or its process stopped; it is killed (SIGTERM, then " +
          "SIGKILL) and replaced",
        { id, seconds },
      );
      return;
    }
    log.error(
      "worker {id} has not answered heartbeats for {seconds} s (--worker-timeout): it is stuck " +
        "in synchronous code (or its thread ended without a word). It is replaced, but a thread " +
        "stuck in synchronous JavaScript cannot be stopped: it keeps a CPU core busy and its " +
        "open connections unanswered until the server process restarts ({hung} such worker(s) " +
        "so far); --isolation process can stop it",
      { id, seconds, hung },
    );
  }

  /** A retiring worker overstayed its deadline. */
  retireTimeout(id: number, stopping: boolean): void {
    log.warning(
      stopping
        ? "worker {id}: graceful timeout reached and the worker did not end: terminated"
        : "worker {id} did not finish retiring in time: terminated",
      { id },
    );
  }

  /** A worker still starting is no longer wanted. */
  stoppedBeforeServing(id: number, reason: string): void {
    log.info("worker {id} stopped before it served: {reason}", { id, reason });
  }

  /** A crash of a worker that goes on serving (`again`: not its first). */
  crashed(id: number, retiring: boolean, again: boolean, reason: string, now: number): void {
    const how = retiring
      ? " (retiring)"
      : again
      ? " again"
      : " (it serves on until it is replaced)";
    this.#death(`worker ${id} crashed${how}: ${reason}`, now);
  }

  /** A worker that ended unasked, and what happens next. */
  died(id: number, death: Death, now: number): void {
    const retry = death.retry === undefined
      ? ""
      : death.retry === "replacing"
      ? ", replacing it"
      : ` (next attempt in ${
        death.retry.delay / 1000
      } s, ${death.retry.failures} failure(s) in a row)`;
    this.#death(`worker ${id} ${death.what}${retry}: ${death.reason}`, now);
  }

  /** A crash or death line, unless a crash loop is being summarised. */
  #death(line: string, now: number): void {
    if (this.#deaths.admit(line, now)) log.error("{line}", { line });
  }

  /** A shutdown begins, or (`again`) is forced. */
  shutdown(again: boolean, count: number): void {
    if (again) log.warning("second shutdown request: terminating {count} worker(s) now", { count });
    else log.info("shutdown begun: {count} worker(s) finishing their requests", { count });
  }

  /** Every worker has left. */
  finished(): void {
    log.info("shutdown finished");
  }

  /** When {@link PoolLog.summarise} has something to say. */
  get summaryDue(): number {
    return this.#deaths.due;
  }

  /** The summary of a crash loop's window, if one ended. */
  summarise(now: number): void {
    const summary = this.#deaths.summary(now);
    if (summary === undefined) return;
    log.error("...and {held} more worker crash(es) in the last {seconds} s, the last: {last}", {
      held: summary.held,
      seconds: summary.window / 1000,
      last: summary.last,
    });
  }

  /** A line a worker logged (escaped already). */
  fromWorker(id: number, level: string, message: string): void {
    const values = { id, message };
    if (level === "error") log.error("worker {id}: {message}", values);
    else if (level === "warning") log.warning("worker {id}: {message}", values);
    else log.info("worker {id}: {message}", values);
  }

  /** Lines a worker sent over its rate. */
  dropped(id: number, dropped: number): void {
    log.warning("worker {id}: {dropped} log or access line(s) dropped: over the rate limit", {
      id,
      dropped,
    });
  }

  /** TTIN or TTOU, and what came of it. */
  count(before: number, after: number, ceiling: number, grow: boolean): void {
    if (after > before) log.info("worker count raised to {count}", { count: after });
    else if (after < before) log.info("worker count lowered to {count}", { count: after });
    else if (!grow) log.info("worker count stays at 1: it cannot go lower");
    else {
      log.warning("worker count stays at {count}: the ceiling is {count} (4 × CPUs)", {
        count: ceiling,
      });
    }
  }
}
