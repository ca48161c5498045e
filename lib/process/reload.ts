/**
 * `-r`/`--reload`: watches the app's directory and restarts the workers gracefully when a file
 * in it changes (a burst of changes, as an editor's save or a `git checkout` makes, gives one
 * restart). The server's own files — logs, pid file, sockets — and the usual noise (`.git`,
 * `node_modules`, editor swap files) do not count.
 *
 * @module
 */

import { basename, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ListenSpec } from "../listen/spec.ts";
import { log } from "../log.ts";
import type { ResolvedOptions } from "../options/mod.ts";

/** What the watcher needs. */
export interface ReloadOptions {
  /** The app's module URL (only `file:` URLs can be watched). */
  app: string;
  /** Files the server writes itself, never a reason to restart. */
  ignore?: string[];
  /** Called once per burst of changes; the next burst waits for it. */
  restart(paths: string[]): Promise<void>;
  /** Quiet time before a burst counts as over (default 300 ms). */
  debounceMs?: number;
}

/** A running watcher. */
export interface Reloader {
  /** The directory watched. */
  readonly directory: string;
  /** Stops watching. */
  close(): void;
}

const NOISE_DIRECTORIES = new Set([".git", ".hg", ".svn", "node_modules", ".cache"]);

function noise(path: string, ignore: Set<string>): boolean {
  if (ignore.has(path)) return true;
  const name = basename(path);
  if (
    name.endsWith("~") || name.endsWith(".swp") || name.endsWith(".swx") || name.startsWith(".#")
  ) return true;
  if (name === "4913") return true; // vim's probe file
  return path.split(sep).some((part) => NOISE_DIRECTORIES.has(part));
}

/**
 * Starts watching the directory of `options.app`.
 *
 * @throws {Error} if the app is not a local file or the directory cannot be watched.
 */
export function watchForReload(options: ReloadOptions): Reloader {
  if (!options.app.startsWith("file:")) {
    throw new Error(`--reload: ${options.app} is not a local file; nothing to watch`);
  }
  const directory = dirname(fileURLToPath(options.app));
  const ignore = new Set(options.ignore ?? []);
  const debounce = options.debounceMs ?? 300;
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(directory, { recursive: true });
  } catch (error) {
    throw new Error(`--reload: cannot watch ${directory}: ${(error as Error).message}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let changed = new Set<string>();
  let running: Promise<void> | undefined;
  let closed = false;

  const fire = async () => {
    timer = undefined;
    if (running !== undefined || closed) return;
    const paths = [...changed];
    changed = new Set();
    running = options.restart(paths).catch(() => {}).finally(() => {
      running = undefined;
      // Changes made during the restart give one more.
      if (changed.size > 0 && !closed) timer = setTimeout(fire, debounce);
    });
    await running;
  };

  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access" || event.kind === "other") continue;
        const paths = event.paths.filter((path) => !noise(path, ignore));
        if (paths.length === 0) continue;
        for (const path of paths) changed.add(path);
        if (running !== undefined) continue;
        clearTimeout(timer);
        timer = setTimeout(fire, debounce);
      }
    } catch {
      // Closed.
    }
  })();

  return {
    directory,
    close() {
      closed = true;
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // Already closed.
      }
    },
  };
}

/** The server `reloadOnChange` restarts. */
interface Restartable {
  readonly addresses: readonly ListenSpec[];
  restart(): Promise<void>;
}

/**
 * `--reload` for a running server: watches the app's directory, ignoring the server's own log,
 * pid and socket files, and restarts the workers on a change. Returns undefined (after a
 * warning) when the app cannot be watched.
 */
export function reloadOnChange(
  options: ResolvedOptions,
  server: Restartable,
): Reloader | undefined {
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
