/**
 * The graceful stop both a retiring worker and a `workers: 0` server run, on either engine:
 * every further response closes its connection, accepting stops, WebSockets are asked to end,
 * idle connections get a short grace for a request already on its way, then the drain; past
 * the deadline whatever is left is cut.
 *
 * @module
 */

/**
 * How long a server shutting down keeps an idle keep-alive connection open: long enough for a
 * request its client sent as the signal came to arrive and be answered (with `Connection:
 * close`), short enough that shutting down stays prompt. A server with no connection waits not
 * at all.
 */
export const SHUTDOWN_GRACE = 300;

/** What a graceful stop needs of a server (`HttpServer`, `NativeServer`, a worker's engine). */
export interface StoppableServer {
  /** Live connections. */
  readonly connections: number;
  /** Every further response closes its connection. */
  retire(): void;
  /** Closes the listeners. */
  stopAccepting(): void;
  /** Asks upgraded connections (WebSockets) to end now (1001). */
  closeUpgraded(): void;
  /** Closes idle connections, finishes the rest; resolves when none is left. */
  drain(): Promise<void>;
  /** Ends every connection now; returns how many were cut. */
  abort(): number;
}

/** When and how patiently a server stops. Times in milliseconds. */
export interface StopPlan {
  /** From now until what is left is cut. */
  cutAfter: number;
  /** How long idle connections may stay for one more request before the drain closes them. */
  grace: number;
  /** Ends the grace early (a shutdown that follows a recycle). */
  signal?: AbortSignal;
  /**
   * Run once accepting has stopped, before the grace: a worker waits for its accept loops there
   * (every accepted connection is then known) and tells the supervisor.
   */
  stoppedAccepting?: () => Promise<void> | void;
}

/**
 * Stops `server` gracefully by `plan`; resolves, once no connection is left, to how many were
 * cut at the deadline.
 *
 * @example
 * ```ts ignore
 * import { gracefulStop, SHUTDOWN_GRACE } from "./graceful_stop.ts";
 * const cut = await gracefulStop(server, { cutAfter: 30_000, grace: SHUTDOWN_GRACE });
 * ```
 */
export async function gracefulStop(server: StoppableServer, plan: StopPlan): Promise<number> {
  let cut = 0;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort();
    cut = server.abort();
  }, Math.max(0, plan.cutAfter));
  server.retire();
  server.stopAccepting();
  // Upgraded connections never end by themselves, and a replacement takes new connections.
  server.closeUpgraded();
  await plan.stoppedAccepting?.();
  await connectionsClosed(
    server,
    plan.grace,
    plan.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, plan.signal]),
  );
  await server.drain();
  clearTimeout(timer);
  return cut;
}

/** Resolves once `server` has no connection left, `within` ms passed, or `signal` aborts. */
function connectionsClosed(
  server: { readonly connections: number },
  within: number,
  signal: AbortSignal,
): Promise<void> {
  const until = Date.now() + within;
  return new Promise((resolve) => {
    const check = () => {
      if (server.connections === 0 || signal.aborted || Date.now() >= until) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, 20);
    check();
  });
}
