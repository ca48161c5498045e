/**
 * The CLI's signal handling: TERM, INT and QUIT shut down gracefully (a second one forces),
 * HUP restarts every worker gracefully, TTIN and TTOU add or remove a worker, USR2 reopens the
 * log files. USR1 is left alone: Deno opens its inspector on it.
 *
 * @module
 */

import { log, reopenLogs } from "./log.ts";
import type { Server } from "./serve.ts";

/** Routes process signals to `server`; returns a function that removes the listeners. */
export function installSignals(server: Server): () => void {
  const installed: [Deno.Signal, () => void][] = [];
  const on = (signal: Deno.Signal, handler: () => void) => {
    Deno.addSignalListener(signal, handler);
    installed.push([signal, handler]);
  };
  const stop = () => {
    server.shutdown();
  };
  on("SIGTERM", stop);
  on("SIGINT", stop);
  on("SIGQUIT", stop);
  on("SIGHUP", () => {
    server.restart().catch((error) => log.error("restart failed: {reason}", { reason: (error as Error).message }));
  });
  on("SIGTTIN", () => server.addWorker());
  on("SIGTTOU", () => server.removeWorker());
  on("SIGUSR2", () => {
    reopenLogs().then(() => log.info("log files reopened"));
  });
  return () => {
    for (const [signal, handler] of installed) Deno.removeSignalListener(signal, handler);
  };
}
