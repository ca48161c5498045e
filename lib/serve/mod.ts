/**
 * `serve()`: starts Starlight in this process — a supervisor with sandboxed workers
 * (`with_workers.ts`), or with `workers: 0` the engine itself in the main thread
 * (`in_process.ts`).
 *
 * @module
 */

import "../http/node_reasons.ts";
import { findAppConfig } from "../app/config.ts";
import { refuseNative } from "../engine/native/refusal.ts";
import { readTls } from "../listen/tls_material.ts";
import { announceBanner, log, type LogRecord, setupLogging } from "../log.ts";
import { bannerLine, listenerUrl } from "../observe/banner.ts";
import {
  OptionError,
  type ResolvedOptions,
  resolveOptions,
  type ServeOptions,
} from "../options/mod.ts";
import { ProcessControl } from "../process/control.ts";
import { warnUnreadableAfterDrop } from "../process/privileges.ts";
import { configMismatch } from "../process/relaunch.ts";
import { reloadOnChange } from "../process/reload.ts";
import { secretWarnings } from "../sandbox/secrets.ts";
import { describeAppPermissions } from "../sandbox/permissions.ts";
import { serveInProcess } from "./in_process.ts";
import { serveWithWorkers } from "./with_workers.ts";
import type { Server } from "./server.ts";

export type { Server };

/**
 * How `serve()` was called: an embedding program may take Starlight's log records itself.
 *
 * @example Starlight's log records into the program's own logger
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * await serve({ app: "./app.ts" }, { logSink: (record) => console.log(record.level, record.message) });
 * ```
 */
export interface ServeContext {
  /** Every server log record goes to this function instead of stderr or `errorLog`. */
  logSink?: (record: LogRecord) => void;
  /** Set by the CLI in the daemon it started: `daemonize` is refused anywhere else. */
  daemonized?: boolean;
}

/**
 * Starts the server in this process and resolves once it listens; rejects with a one-line
 * error when it cannot (an `OptionError` for a bad option, with the command line's message).
 * Options are the command line's, camelCased, with the same defaults.
 *
 * @example A module on four workers, stopped gracefully on SIGTERM
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: new URL("./app/load.ts", import.meta.url), workers: 4 });
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 *
 * @example A handler function in this thread (`workers: 0`), on a free port
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: () => new Response("hi"), workers: 0, port: 0 });
 * console.log(server.addresses); // [{ kind: "tcp", hostname: "0.0.0.0", port: 41234 }]
 * ```
 */
export async function serve(options: ServeOptions, context: ServeContext = {}): Promise<Server> {
  const resolved = resolveOptions(options);
  refuseNative(resolved);
  if (resolved.daemonize && !context.daemonized) {
    throw new OptionError(
      "--daemonize",
      "--daemonize: only the command line daemonizes; run an embedding program under a service manager",
    );
  }
  setupLogging({
    errorLog: resolved.errorLog,
    accessLog: resolved.accessLog,
    accessToStderr: resolved.env === "development",
    quiet: resolved.quiet,
    format: resolved.logFormat,
    sink: context.logSink,
  });
  warnAboutTheApp(resolved);
  // Before anything listens: an unknown --user/--group is an error, and the pid file exists.
  const control = ProcessControl.begin(resolved);
  let server: Server;
  try {
    // Privileges are dropped once everything is bound and before any app code is loaded, so
    // nothing the app does at load (a program started, a file read) runs as root. A failed drop
    // throws there, before the app exists.
    server = await start(resolved, () => control.afterListening());
  } catch (error) {
    await control.finish();
    throw error;
  }
  warnUnreadableAfterDrop(resolved, control.identity);
  const reloader = resolved.reload ? reloadOnChange(resolved, server) : undefined;
  const finished = server.finished.then(async () => {
    reloader?.close();
    await control.finish();
  });
  return { ...server, finished };
}

/**
 * What the operator should know before the app starts: a deno.json of the app's that does not
 * apply to this process, and secrets the app can read (see `sandbox/secrets.ts`).
 */
function warnAboutTheApp(resolved: ResolvedOptions): void {
  if (typeof resolved.app !== "string") return;
  const config = findAppConfig(resolved.app, resolved.config);
  const mismatch = configMismatch(config);
  if (mismatch !== undefined) {
    log.warning(
      "the app's Deno config does not apply: {mismatch}; the command line re-launches with it, " +
        "an embedding program must run deno with {flags}",
      { mismatch, flags: config.path === undefined ? "--no-config" : `--config ${config.path}` },
    );
  }
  if (config.lonePackageJson !== undefined) {
    log.warning(
      "{packageJson} does not apply: deno reads a package.json only beside the deno.json it runs " +
        "with; put a deno.json ({} will do) beside it",
      { packageJson: config.lonePackageJson },
    );
  }
  const workerModule = new URL("../pool/thread_worker.ts", import.meta.url).href;
  for (const warning of secretWarnings(resolved, workerModule)) {
    log.warning("{warning}", { warning });
  }
}

/** Opens the listeners and starts serving (in this thread or with workers); prints the banner. */
async function start(resolved: ResolvedOptions, beforeApp: () => void): Promise<Server> {
  const tls = await readTls(resolved);
  const server = resolved.workers === 0
    ? await serveInProcess(resolved, tls, beforeApp)
    : await serveWithWorkers(resolved, tls, beforeApp);
  announceBanner([
    ...server.addresses.map((spec) => ({
      message: bannerLine(resolved.serverSoftware, spec, tls !== undefined),
      fields: { url: listenerUrl(spec, tls !== undefined) },
    })),
    { message: describeAppPermissions(resolved, server.addresses) },
  ]);
  return server;
}
