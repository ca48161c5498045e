/**
 * Secrets inside the app's read grant, found at start and named in warnings.
 *
 * The app may read its whole directory (and whatever `--allow-read` adds), and Deno checks a
 * path as written: `app/link → /etc/shadow` is readable through the link although `/etc` is
 * not granted. So at start the granted directories are walked (breadth first, bounded) for
 * symbolic links whose target lies outside every grant, and for `.env` files; and the files the
 * server itself holds — the TLS key, the log files, the pid file — are checked against the
 * grant. Nothing is refused: the operator may mean it; the warning says what the app can read.
 *
 * `node_modules`, `.git` and Deno's caches are not walked: the package manager made them, and
 * walking them would cost more than the rest of the start.
 *
 * @module
 */

import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ResolvedOptions } from "../options/mod.ts";
import { composePermissions } from "./permissions.ts";
import { holds } from "./query.ts";

/** How much of the granted directories is walked. */
export interface WalkLimits {
  /** Entries looked at in all, across the granted directories. */
  entries: number;
  /** Directory levels below a granted directory. */
  depth: number;
}

/** The default bounds: enough for an app's own tree, small enough to start in milliseconds. */
export const DEFAULT_WALK_LIMITS: WalkLimits = { entries: 20_000, depth: 16 };

/** Warnings of one kind beyond this many are summarised in one line. */
const MAX_PER_KIND = 10;

const SKIPPED_DIRECTORIES = new Set(["node_modules", ".git", ".hg", ".svn", ".deno"]);

/** A file the server holds that the app should not read. */
export interface HeldFile {
  /** Absolute path. */
  path: string;
  /** What it is, for the warning: `the TLS key`, `the error log`, … */
  what: string;
}

function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realOrSame(path: string): string {
  try {
    return holds({ name: "read", path }) ? Deno.realPathSync(path) : path;
  } catch {
    return path;
  }
}

/** Where a symbolic link leads: its final target, or where it points if that is missing. */
function linkTarget(path: string): string {
  try {
    // realPath needs read access to the target too; where the server lacks it, no prompt.
    if (!holds({ name: "read" })) throw new Error("no read access everywhere");
    return Deno.realPathSync(path);
  } catch {
    try {
      return resolve(dirname(path), Deno.readLinkSync(path));
    } catch {
      return path;
    }
  }
}

/**
 * Warnings for the read grant `grants` (absolute paths): symbolic links under the directories
 * in `walk` that lead outside every grant, `.env` files under them, and `held` files that lie
 * inside a grant. With `grants === true` (read access everywhere) only the held files are named.
 *
 * @example
 * ```ts ignore
 * readGrantWarnings(["/srv/app"], ["/srv/app"], [{ path: "/srv/app/key.pem", what: "the TLS key" }]);
 * // ["the TLS key /srv/app/key.pem lies inside the app's read grant (/srv/app): the app can read it"]
 * ```
 */
export function readGrantWarnings(
  grants: true | readonly string[],
  walk: readonly string[],
  held: readonly HeldFile[],
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
): string[] {
  const warnings: string[] = [];
  for (const file of held) {
    if (grants === true) {
      warnings.push(`${file.what} ${file.path} is readable by the app (it may read any file)`);
      continue;
    }
    const real = realOrSame(file.path);
    const grant = grants.find((root) => inside(file.path, root) || inside(real, realOrSame(root)));
    if (grant !== undefined) {
      warnings.push(
        `${file.what} ${file.path} lies inside the app's read grant (${grant}): the app can read it`,
      );
    }
  }
  if (grants === true) return warnings;
  const roots = [...new Set(grants.flatMap((root) => [root, realOrSame(root)]))];
  const granted = (path: string) => roots.some((root) => inside(path, root));
  const links: string[] = [];
  const envFiles: string[] = [];
  let seen = 0;
  let truncated = false;
  const queue: [string, number][] = walk.map((dir) => [dir, 0]);
  while (queue.length > 0) {
    const [dir, depth] = queue.shift()!;
    if (!holds({ name: "read", path: dir })) continue;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++seen > limits.entries) {
        truncated = true;
        break;
      }
      const path = join(dir, entry.name);
      if (entry.isSymlink) {
        const target = linkTarget(path);
        if (!granted(target)) links.push(`${path} -> ${target}`);
      } else if (entry.isDirectory) {
        if (depth + 1 <= limits.depth && !SKIPPED_DIRECTORIES.has(entry.name)) {
          queue.push([path, depth + 1]);
        }
      } else if (entry.name === ".env" || entry.name.startsWith(".env.")) {
        envFiles.push(path);
      }
    }
    if (truncated) break;
  }
  const summarise = (items: string[], each: (item: string) => string) => {
    warnings.push(...items.slice(0, MAX_PER_KIND).map(each));
    if (items.length > MAX_PER_KIND) {
      warnings.push(`... and ${items.length - MAX_PER_KIND} more like it`);
    }
  };
  summarise(
    links,
    (link) =>
      `symbolic link ${link} leads outside the app's read grant: Deno checks the path as ` +
      "written, so the app can read the target through it",
  );
  summarise(
    envFiles,
    (path) =>
      `${path} lies inside the app's read grant: the app and every dependency can read it; ` +
      "keep it outside, and pass what the app needs with --allow-env",
  );
  if (truncated) {
    warnings.push(
      `stopped looking for symbolic links and .env files after ${limits.entries} entries of ` +
        `${walk.join(", ")}`,
    );
  }
  return warnings;
}

/**
 * The read-grant warnings for a server about to start with `resolved`: none when the app is
 * not sandboxed (`--allow-all`, or `--workers 0`, where the banner says so already).
 *
 * @example
 * ```ts ignore
 * for (const warning of secretWarnings(resolved, workerModule)) log.warning("{warning}", { warning });
 * ```
 */
export function secretWarnings(resolved: ResolvedOptions, workerModule: string): string[] {
  if (resolved.permissions.all || resolved.workers === 0 || typeof resolved.app !== "string") {
    return [];
  }
  const permissions = composePermissions(
    resolved.permissions,
    resolved.listeners,
    resolved.app,
    workerModule,
  );
  if (permissions === "inherit" || permissions === "none") return [];
  const read = permissions.read;
  if (read === false || read === undefined || read === "inherit") return [];
  const grants = read === true ? true : read.map(String);
  const appDir = resolved.app.startsWith("file:")
    ? dirname(fileURLToPath(resolved.app))
    : undefined;
  const granted = resolved.permissions.read;
  const walk = [
    ...(appDir === undefined ? [] : [appDir]),
    ...(Array.isArray(granted) ? granted : []),
  ];
  const held: HeldFile[] = [
    ...(resolved.sslKeyFile === undefined
      ? []
      : [{ path: resolved.sslKeyFile, what: "the TLS key" }]),
    ...(resolved.errorLog === undefined
      ? []
      : [{ path: resolved.errorLog, what: "the error log" }]),
    ...(resolved.accessLog === undefined
      ? []
      : [{ path: resolved.accessLog, what: "the access log" }]),
    ...(resolved.pid === undefined ? [] : [{ path: resolved.pid, what: "the pid file" }]),
  ];
  return readGrantWarnings(grants, [...new Set(walk)], held);
}
