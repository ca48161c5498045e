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

import { AppError } from "./lib/app/load.ts";
import { type AppConfig, findAppConfig } from "./lib/app/config.ts";
import { daemonize, DaemonStatus } from "./lib/process/daemon.ts";
import { helpText, usageLine } from "./lib/options/help.ts";
import { announcedLines, closeLogs, log } from "./lib/log.ts";
import {
  OptionError,
  parseCliArgs,
  type ResolvedOptions,
  resolveOptions,
  type ServeOptions,
} from "./lib/options/mod.ts";
import { applyServeAddress } from "./lib/options/serve_address.ts";
import { envGet } from "./lib/sandbox/query.ts";
import { describeRequestedPermissions, PermissionError } from "./lib/sandbox/permissions.ts";
import { isRelaunched, parentGone, relaunch, relaunchNeeded } from "./lib/process/relaunch.ts";
import { serve, type Server } from "./lib/serve/mod.ts";
import { installSignals } from "./lib/process/signals.ts";
import { VERSION } from "./lib/version.ts";

function stderr(line: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  } catch {
    // No stderr (a daemon without an error log).
  }
}

/**
 * Runs the CLI with `args` and resolves to the process exit code: 0 after a clean shutdown,
 * 1 when the server cannot start, 2 for a usage error.
 *
 * The order is the original's: options checked; the command re-launches itself where deno
 * lacks the flags or the app's config that workers need (see `lib/process/relaunch.ts`); with
 * `-D` the command starts itself detached and waits for it to listen; the identity (`--user`, `--group`) is checked and the pid file
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
    console.log(helpText() + "\n" + describeRequestedPermissions(request.options));
    return 0;
  }
  if (request.version) {
    console.log(`Starlight/${VERSION} (Deno ${Deno.version.deno})`);
    return 0;
  }
  const development = request.options.env === "development";
  const daemon = DaemonStatus.fromEnvironment();
  let server: Server | undefined;
  let resolved: ResolvedOptions | undefined;
  let options: ServeOptions = request.options;
  try {
    options = applyServeAddress(request.options, envGet("DENO_SERVE_ADDRESS"));
    // Nothing here prompts: Deno.cwd() needs no permission, and every file look-up is queried.
    resolved = resolveOptions(options);
    const config = appConfig(resolved);
    if (relaunchNeeded(config)) return await relaunch(config);
    if (resolved.daemonize && daemon === undefined) {
      return await daemonize(resolved.errorLog, resolved.quiet);
    }
    // Handlers go in before the server starts: a signal sent on seeing the banner is held until
    // `serve()` resolves, never the default action (which would kill the server).
    const starting = serve(options, { daemonized: daemon !== undefined });
    const removeSignals = installSignals(starting);
    try {
      server = await starting;
    } catch (error) {
      removeSignals();
      throw error;
    }
    daemon?.ready(announcedLines());
    const running = server;
    if (isRelaunched()) parentGone().then(() => running.shutdown());
    await server.finished;
    removeSignals();
    return 0;
  } catch (error) {
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
    if (
      development && error instanceof Error &&
      !(error instanceof AppError || error instanceof PermissionError)
    ) {
      stderr(error.stack ?? "");
    }
    return 1;
  } finally {
    closeLogs();
  }
}

function appConfig(resolved: ResolvedOptions): AppConfig {
  return typeof resolved.app === "string"
    ? findAppConfig(resolved.app, resolved.config)
    : { path: undefined, source: "none", unstable: [], lonePackageJson: undefined };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
