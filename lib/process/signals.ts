/**
 * The CLI's signal handling: TERM, INT and QUIT shut down gracefully (a second one forces),
 * HUP restarts every worker gracefully, TTIN and TTOU add or remove a worker, USR2 reopens the
 * log files. USR1 is left alone: Deno opens its inspector on it.
 *
 * Install the handlers before the server starts (pass the promise `serve()` returns): a signal
 * that arrives while no handler is installed gets the system's default action — TERM and HUP
 * kill the process on the spot, QUIT dumps core, TTIN and TTOU suspend it — and a script that
 * signals the server as soon as the banner appears would otherwise hit that window.
 *
 * @module
 */

import { log, reopenLogs } from "../log.ts";
import type { Server } from "../serve/server.ts";

/**
 * Routes process signals to `server`; returns a function that removes the listeners.
 *
 * Given a promise, signals that arrive before it resolves are held and applied once it does:
 * a shutdown (or two, which forces it), the net of TTIN and TTOU; a HUP is dropped, since the
 * workers being started load the current code anyway. If the promise rejects, nothing is
 * applied.
 *
 * @example
 * ```ts ignore
 * const starting = serve(options);
 * const removeSignals = installSignals(starting);
 * const server = await starting;
 * await server.finished;
 * removeSignals();
 * ```
 */
export function installSignals(server: Server | Promise<Server>): () => void {
  let ready: Server | undefined;
  let stops = 0;
  let workers = 0;
  const installed: [Deno.Signal, () => void][] = [];
  const on = (signal: Deno.Signal, handler: () => void) => {
    Deno.addSignalListener(signal, handler);
    installed.push([signal, handler]);
  };
  const stop = () => {
    if (ready !== undefined) ready.shutdown();
    else stops++;
  };
  on("SIGTERM", stop);
  on("SIGINT", stop);
  on("SIGQUIT", stop);
  on("SIGHUP", () => {
    if (ready === undefined) {
      log.info("HUP while starting: the workers being started load the current code already");
      return;
    }
    ready.restart().catch((error) =>
      log.error("restart failed: {reason}", { reason: (error as Error).message })
    );
  });
  on("SIGTTIN", () => {
    if (ready !== undefined) ready.addWorker();
    else workers++;
  });
  on("SIGTTOU", () => {
    if (ready !== undefined) ready.removeWorker();
    else workers--;
  });
  on("SIGUSR2", () => {
    reopenLogs().then(() => log.info("log files reopened"));
  });
  const apply = (started: Server) => {
    ready = started;
    for (; workers > 0; workers--) started.addWorker();
    for (; workers < 0; workers++) started.removeWorker();
    for (let i = 0; i < Math.min(stops, 2); i++) started.shutdown();
  };
  if (server instanceof Promise) server.then(apply, () => {});
  else apply(server);
  return () => {
    for (const [signal, handler] of installed) Deno.removeSignalListener(signal, handler);
  };
}
