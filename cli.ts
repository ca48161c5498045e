/**
 * The `starlight` command line: `deno run -A jsr:@x/starlight [options] app.ts`.
 *
 * @example
 * ```sh
 * deno run -A jsr:@x/starlight/cli --port 8080 --workers 4 app.ts
 * ```
 *
 * @module
 */

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "./lib/app.ts";
import { daemonize, DaemonStatus } from "./lib/daemon.ts";
import { helpText, usageLine } from "./lib/help.ts";
import { announcedLines, closeLogs, log } from "./lib/log.ts";
import { OptionError, parseCliArgs, type ResolvedOptions, resolveOptions } from "./lib/options.ts";
import { denoDir } from "./lib/permissions.ts";
import { unreadableFor } from "./lib/privileges.ts";
import { ProcessControl } from "./lib/process.ts";
import { isRelaunched, parentGone, relaunch, relaunchNeeded } from "./lib/relaunch.ts";
import { type Reloader, watchForReload } from "./lib/reload.ts";
import { serve, type Server } from "./lib/serve.ts";
import { installSignals } from "./lib/signals.ts";
import { VERSION } from "./lib/version.ts";

function stderr(line: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  } catch {
    // No stderr (a daemon without an error log).
  }
}

/**
 * After a switch of user, workers started later (restarts, replacements) load the app and its
 * packages as that user: say so now if they could not read them, rather than at the first restart.
 */
function warnUnreadable(options: ResolvedOptions, control: ProcessControl): void {
  const identity = control.identity;
  if (identity === undefined || typeof options.app !== "string") return;
  const paths: string[] = [];
  if (options.app.startsWith("file:")) paths.push(dirname(fileURLToPath(options.app)));
  const cache = denoDir();
  if (cache !== undefined) paths.push(cache);
  const unreadable = unreadableFor(identity, paths);
  if (unreadable.length === 0) return;
  log.warning(
    "after the switch to {who}, workers started later (restarts, replacements) cannot read {paths}: " +
      "loading the app or its packages may fail then; give read access, or set DENO_DIR to a cache that user can read",
    { who: identity.user ?? `group ${identity.gid}`, paths: unreadable.join(", ") },
  );
}

/** `-r`: restart the workers when the app's directory changes. */
function startReload(options: ResolvedOptions, server: Server): Reloader | undefined {
  if (typeof options.app !== "string") return undefined;
  const ignore = [options.errorLog, options.accessLog, options.pid]
    .concat(server.addresses.map((spec) => spec.kind === "unix" ? spec.path : undefined))
    .filter((path): path is string => path !== undefined);
  try {
    const reloader = watchForReload({
      app: options.app,
      ignore,
      restart: async (paths) => {
        log.info("reload: {path} changed; restarting the workers", { path: paths[0] ?? "?" });
        await server.restart();
      },
    });
    log.info("reload: watching {directory}", { directory: reloader.directory });
    return reloader;
  } catch (error) {
    log.warning("{reason}", { reason: (error as Error).message });
    return undefined;
  }
}

/**
 * Runs the CLI with `args` and resolves to the process exit code: 0 after a clean shutdown,
 * 1 when the server cannot start, 2 for a usage error.
 *
 * The order is the original's: options checked; with `-D` the command starts itself detached
 * and waits for it to listen; the identity (`--user`, `--group`) is checked and the pid file
 * created; the server starts (logs, listeners, workers); then privileges are dropped and the
 * umask set; at exit the pid file and socket files are removed.
 */
export async function main(args: string[]): Promise<number> {
  let request;
  try {
    request = parseCliArgs(args);
  } catch (error) {
    if (error instanceof OptionError) {
      stderr(`starlight: ${error.message}`);
      stderr(usageLine);
      return 2;
    }
    throw error;
  }
  if (request.help) {
    console.log(helpText());
    return 0;
  }
  if (request.version) {
    console.log(`Starlight/${VERSION} (Deno ${Deno.version.deno})`);
    return 0;
  }
  const development = request.options.env === "development";
  const daemon = DaemonStatus.fromEnvironment();
  let control: ProcessControl | undefined;
  let server: Server | undefined;
  let resolved: ResolvedOptions | undefined;
  try {
    resolved = resolveOptions(request.options);
    if (resolved.daemonize && daemon === undefined) {
      return await daemonize(resolved.errorLog, resolved.quiet);
    }
    if (relaunchNeeded()) return await relaunch();
    control = ProcessControl.begin(resolved);
    // Handlers go in before the server starts: a signal sent on seeing the banner is held until
    // `serve()` resolves, never the default action (which would kill the server).
    const starting = serve(request.options, { ownsLogging: true });
    const removeSignals = installSignals(starting);
    try {
      server = await starting;
    } catch (error) {
      removeSignals();
      throw error;
    }
    control.afterListening();
    warnUnreadable(resolved, control);
    const reloader = resolved.reload ? startReload(resolved, server) : undefined;
    daemon?.ready(announcedLines());
    const running = server;
    if (isRelaunched()) parentGone().then(() => running.shutdown());
    await server.finished;
    reloader?.close();
    removeSignals();
    return 0;
  } catch (error) {
    if (server !== undefined) {
      // Started, but the privilege drop failed: stop serving at once.
      server.shutdown();
      server.shutdown();
      await server.finished;
    }
    const usage = error instanceof OptionError;
    const message = error instanceof Error ? error.message : String(error);
    daemon?.failed(message);
    stderr(`starlight: ${message}`);
    if (usage) {
      stderr(usageLine);
      return 2;
    }
    // In a daemon, stderr is the error log already.
    if (resolved?.errorLog !== undefined && daemon === undefined) {
      log.error("{message}", { message });
    }
    if (development && error instanceof Error && !(error instanceof AppError)) {
      stderr(error.stack ?? "");
    }
    return 1;
  } finally {
    await control?.finish();
    closeLogs();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
