/**
 * The permission set of a worker: what the app may do. By default only what serving needs —
 * listening on its own addresses, reading its own directory and the npm package caches,
 * importing from the hosts Deno trusts by default (and the hosts Starlight and the app are
 * loaded from) — plus exactly what the operator granted with `--allow-*` flags or
 * `permissions` in `serve()` options.
 *
 * Every check here uses `Deno.permissions.querySync`, which never prompts: nothing in this
 * module can make a permission prompt appear.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { formatListenSpec, type ListenSpec } from "../listen/spec.ts";
import {
  PERMISSION_KINDS,
  type ResolvedOptions,
  type ResolvedPermissions,
  resolveOptions,
  type ServeOptions,
} from "../options/mod.ts";
import { envGet, holds } from "./query.ts";
import { promptPossible } from "../process/relaunch.ts";

/** The hosts Deno allows imports from without `--allow-import`. */
export const DEFAULT_IMPORT_HOSTS: readonly string[] = [
  "deno.land:443",
  "jsr.io:443",
  "esm.sh:443",
  "cdn.jsdelivr.net:443",
  "raw.githubusercontent.com:443",
  "gist.githubusercontent.com:443",
];

/** One of {@link PERMISSION_KINDS}. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/**
 * The server cannot give the app a permission it asked for (the Deno process itself lacks it),
 * or the sandbox could be escaped through a permission prompt. The message is one line naming
 * the permission, fit to print after `starlight: `.
 *
 * @example Telling a sandbox refusal from other start-up failures
 * ```ts ignore
 * import { PermissionError, serve } from "@x/starlight";
 * try {
 *   await serve({ app: "./app.ts", permissions: { env: ["DATABASE_URL"] } });
 * } catch (error) {
 *   if (error instanceof PermissionError) console.error(`grant it to deno first: ${error.message}`);
 *   else throw error;
 * }
 * ```
 */
export class PermissionError extends Error {
  /** Always `"PermissionError"`. */
  override name = "PermissionError";
}

type Grant = boolean | string[];

function merge(base: string[], granted: Grant): Grant {
  if (granted === true) return true;
  const extra = granted === false ? [] : granted;
  const all = [...new Set([...base, ...extra])];
  return all.length === 0 ? false : all;
}

/** `net` descriptors for listening on `spec`. */
function listenDescriptor(spec: ListenSpec): string | true {
  switch (spec.kind) {
    case "tcp":
      return formatListenSpec(spec);
    case "unix":
      return `unix:${spec.path}`;
    case "abstract":
      // Deno has no descriptor for abstract sockets: only full net access allows them.
      return true;
  }
}

function exists(path: string): boolean {
  if (!holds({ name: "read", path })) return false;
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Files that make a directory a project whose npm packages may go to its `node_modules`. */
const PROJECT_FILES = ["deno.json", "deno.jsonc", "package.json"];

/**
 * Deno's cache directory, as Deno itself finds it: `DENO_DIR`, else the platform's cache
 * directory (`$XDG_CACHE_HOME/deno` or `~/.cache/deno` on Linux). `undefined` when the
 * environment cannot be read without a prompt.
 */
export function denoDir(): string | undefined {
  const explicit = envGet("DENO_DIR");
  if (explicit) return explicit;
  const home = envGet("HOME") ?? envGet("USERPROFILE");
  switch (Deno.build.os) {
    case "darwin":
      return home ? join(home, "Library", "Caches", "deno") : undefined;
    case "windows": {
      const local = envGet("LOCALAPPDATA");
      return local ? join(local, "deno") : undefined;
    }
    default: {
      const xdg = envGet("XDG_CACHE_HOME");
      if (xdg) return join(xdg, "deno");
      return home ? join(home, ".cache", "deno") : undefined;
    }
  }
}

/**
 * Directories holding the app's npm packages, which packages may read at run time (their own
 * data files, `package.json`): Deno's global npm cache, and the `node_modules` directory of
 * the app's directory and of each directory above it that has one or is a project (has a
 * deno.json or package.json: Deno may create `node_modules` there while the worker loads the
 * app). Loading modules needs no read permission on them, but packages that read their own
 * files with `node:fs` do.
 */
export function packageDirectories(appDir: string | undefined): string[] {
  const dirs: string[] = [];
  const cache = denoDir();
  if (cache !== undefined) dirs.push(join(cache, "npm"));
  for (let dir = appDir; dir !== undefined;) {
    const here = dir;
    const candidate = join(here, "node_modules");
    if ([candidate, ...PROJECT_FILES.map((file) => join(here, file))].some(exists)) {
      dirs.push(candidate);
    }
    const parent = dirname(here);
    dir = parent === here ? undefined : parent;
  }
  return dirs;
}

/** `host:port` of an `http:`/`https:` module URL; `undefined` for other schemes. */
function hostOf(url: string): string | undefined {
  if (!url.startsWith("http:") && !url.startsWith("https:")) return undefined;
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  return `${parsed.hostname}:${port}`;
}

/** The directory of a `file:` module URL. */
function directoryOf(url: string): string | undefined {
  return url.startsWith("file:") ? dirname(fromFileUrl(url)) : undefined;
}

/**
 * The permissions for a worker serving `app` on `listeners`, with the operator's grants, and
 * checked against this process with {@link checkWorkerPermissions}.
 *
 * The defaults: `net` for the listeners; `read` for the app's directory (a dynamic `import()`
 * of the app needs it), Deno's npm cache and `node_modules` directories; `import` from Deno's
 * default hosts and from the hosts the worker module and the app come from. A default the
 * process does not hold itself (e.g. the npm cache under `--allow-read=/srv`) is left out
 * rather than refused; an operator's grant the process lacks is refused.
 *
 * @throws {PermissionError} naming the first permission this process cannot pass on, or when
 * a permission prompt could appear.
 * @example
 * ```ts ignore
 * const permissions = workerPermissions(resolved.permissions, listeners, appUrl, workerUrl);
 * new Worker(workerUrl, { type: "module", deno: { permissions } });
 * ```
 */
export function workerPermissions(
  granted: ResolvedPermissions,
  listeners: ListenSpec[],
  app: string,
  workerModule: string,
): Deno.PermissionOptions {
  const permissions = composePermissions(granted, listeners, app, workerModule);
  checkWorkerPermissions(permissions);
  // Deno loads a worker's main module with its parent's permissions.
  if (workerModule.startsWith("file:")) {
    const path = fromFileUrl(workerModule);
    if (!holds({ name: "read", path })) {
      throw new PermissionError(
        `cannot start workers: this deno process needs read access to "${path}"; run deno ` +
          `with --allow-read=${dirname(path)} (or -A)`,
      );
    }
  }
  return permissions;
}

/**
 * {@link workerPermissions} without the check: what the worker would be given. Defaults this
 * process does not hold are left out.
 */
export function composePermissions(
  granted: ResolvedPermissions,
  listeners: ListenSpec[],
  app: string | undefined,
  workerModule: string,
): Deno.PermissionOptions {
  if (granted.all) return "inherit";
  const listen = listeners.map(listenDescriptor);
  const net: Grant = listen.includes(true) ? true : merge(listen as string[], granted.net);

  const read: string[] = [];
  const write: string[] = [];
  for (const spec of listeners) {
    if (spec.kind === "unix") {
      read.push(spec.path);
      write.push(spec.path);
    }
  }
  const appDir = app === undefined ? undefined : directoryOf(app);
  if (appDir !== undefined) read.push(appDir);
  // The worker module and its own imports load without read permission; only the app's
  // dynamic import needs it.
  for (const dir of packageDirectories(appDir)) {
    if (holds({ name: "read", path: dir })) read.push(dir);
  }
  // An app that imports Starlight itself (retireWorker, upgradeWebSocket) from a local checkout
  // reads Starlight's own files; they hold nothing secret. From JSR or a URL nothing is read.
  if (workerModule.startsWith("file:")) {
    const starlight = fromFileUrl(new URL("../../", workerModule));
    for (const path of [join(starlight, "mod.ts"), join(starlight, "lib")]) {
      if (holds({ name: "read", path })) read.push(path);
    }
  }

  const imports = DEFAULT_IMPORT_HOSTS.filter((host) => holds({ name: "import", host }));
  for (const module of [workerModule, app]) {
    const host = module === undefined ? undefined : hostOf(module);
    if (host !== undefined) imports.push(host);
  }
  return {
    net,
    read: merge(read, granted.read),
    write: merge(write, granted.write),
    env: granted.env,
    run: granted.run,
    sys: granted.sys,
    ffi: granted.ffi,
    import: merge(imports, granted.import),
  };
}

function descriptor(kind: PermissionKind, item: string | undefined): Deno.PermissionDescriptor {
  switch (kind) {
    case "net":
    case "import":
      return { name: kind, host: item };
    case "read":
    case "write":
    case "ffi":
      return { name: kind, path: item };
    case "env":
      return { name: "env", variable: item };
    case "run":
      return { name: "run", command: item };
    case "sys":
      return { name: "sys", kind: item as Deno.SysPermissionDescriptor["kind"] };
  }
}

function refusal(kind: PermissionKind, item: string | undefined, reason?: string): PermissionError {
  const what = item === undefined ? `all ${kind} access` : `${kind} access to "${item}"`;
  const flag = item === undefined ? `--allow-${kind}` : `--allow-${kind}=${item}`;
  return new PermissionError(
    reason === undefined
      ? `cannot give the app ${what}: this deno process does not have it, and a worker cannot ` +
        `get more than its parent; run deno with ${flag} (or -A), or drop that grant`
      : `cannot give the app ${what}: ${reason}`,
  );
}

/**
 * Checks that this process can create a worker with `permissions`, using
 * `Deno.permissions.querySync` (never a prompt), and that no permission prompt can appear: a
 * prompt would let a sandboxed app ask the operator's terminal for more.
 *
 * @throws {PermissionError} naming the first permission this process lacks, or when stdin and
 * stderr are a terminal and neither `--no-prompt` nor `DENO_NO_PROMPT=1` is in force.
 * @example
 * ```ts ignore
 * checkWorkerPermissions({ net: ["0.0.0.0:8080"], env: ["DATABASE_URL"] });
 * ```
 */
export function checkWorkerPermissions(permissions: Deno.PermissionOptions): void {
  if (promptPossible()) {
    throw new PermissionError(
      "permission prompts are possible (stdin and stderr are a terminal): run deno with " +
        "--no-prompt, so that the sandboxed app cannot ask this terminal for more permissions",
    );
  }
  if (permissions === "inherit" || permissions === "none") return;
  for (const kind of PERMISSION_KINDS) {
    const value = permissions[kind];
    if (value === undefined || value === false || value === "inherit") continue;
    const items = value === true ? [undefined] : value.map(String);
    for (const item of items) {
      let state: Deno.PermissionState;
      try {
        state = Deno.permissions.querySync(descriptor(kind, item)).state;
      } catch (error) {
        throw refusal(kind, item, (error as Error).message);
      }
      if (state !== "granted") throw refusal(kind, item);
    }
  }
}

/** Shortens a path under the home directory to `~/…`. */
function tilde(path: string, home: string | undefined): string {
  if (home === undefined || home === "/" || home === "") return path;
  if (path === home) return "~";
  return path.startsWith(home + "/") ? "~" + path.slice(home.length) : path;
}

/**
 * One line naming what the app may do, for the banner and `--help`, e.g.
 * `app permissions: net=0.0.0.0:5000; read=/srv/app,~/.cache/deno/npm; import=Deno's default
 * hosts; write,env,run,sys,ffi: none`.
 *
 * @example
 * ```ts
 * import { describePermissions } from "./permissions.ts";
 * describePermissions({ net: ["0.0.0.0:5000"], read: ["/srv/app"] });
 * // "app permissions: net=0.0.0.0:5000; read=/srv/app; write,env,run,sys,ffi,import: none"
 * ```
 */
export function describePermissions(permissions: Deno.PermissionOptions): string {
  if (permissions === "inherit") return "app permissions: all (--allow-all: no sandbox)";
  if (permissions === "none") return "app permissions: none";
  const home = envGet("HOME");
  const parts: string[] = [];
  const none: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    const value = permissions[kind] ?? false;
    if (value === false) {
      none.push(kind);
      continue;
    }
    if (value === true) {
      parts.push(`${kind}=all`);
      continue;
    }
    if (value === "inherit") {
      parts.push(`${kind}=inherited`);
      continue;
    }
    let items = value.map((item) => tilde(String(item), home));
    if (kind === "import" && DEFAULT_IMPORT_HOSTS.every((host) => items.includes(host))) {
      items = [
        "Deno's default hosts",
        ...items.filter((host) => !DEFAULT_IMPORT_HOSTS.includes(host)),
      ];
    }
    parts.push(`${kind}=${items.join(",")}`);
  }
  if (none.length > 0) parts.push(`${none.join(",")}: none`);
  return `app permissions: ${parts.join("; ")}`;
}

/**
 * The {@link describePermissions} line for the options of a command line that has not started
 * (for `--help`): the app's directory is shown as `<app dir>` when no app was given. Options
 * that do not resolve fall back to the defaults with the permissions asked for.
 *
 * @example
 * ```ts ignore
 * console.log(helpText() + "\n" + describeRequestedPermissions(request.options));
 * ```
 */
export function describeRequestedPermissions(options: ServeOptions): string {
  const placeholder = "app.ts";
  let resolved: ResolvedOptions | undefined;
  for (
    const attempt of [
      { ...options, app: options.app ?? placeholder },
      { permissions: options.permissions, app: placeholder },
      { app: placeholder },
    ]
  ) {
    try {
      resolved = resolveOptions(attempt);
      break;
    } catch {
      // Shown anyway, with fewer of the options.
    }
  }
  if (resolved === undefined) return "app permissions: (cannot tell: the options do not resolve)";
  return describeAppPermissions(resolved, resolved.listeners, options.app !== undefined);
}

/** The worker module, as `serve()` starts it. */
const WORKER_MODULE = new URL("../pool/thread_worker.ts", import.meta.url).href;

/**
 * The {@link describePermissions} line for a resolved server, for the start-up banner:
 * `addresses` are the ones bound (port 0 resolved). With `workers: 0` the app runs in the main
 * thread, unsandboxed, and the line says so. `appGiven: false` shows the app's directory as
 * `<app dir>`.
 *
 * @example
 * ```ts ignore
 * announce(describeAppPermissions(resolved, server.addresses));
 * ```
 */
export function describeAppPermissions(
  resolved: ResolvedOptions,
  addresses: ListenSpec[],
  appGiven = true,
): string {
  if (resolved.workers === 0 && !resolved.permissions.all) {
    return "app permissions: all of the server's (--workers 0: the app runs in the main thread, no sandbox)";
  }
  const app = appGiven && typeof resolved.app === "string" ? resolved.app : undefined;
  // Workers never listen on UNIX or abstract sockets, nor on TLS ports: the main thread relays
  // them to a loopback port, and that port is all the net access they give the app (see
  // unix_relay.ts and tls_fronts.ts).
  const relayed = (spec: ListenSpec) => spec.kind !== "tcp" || resolved.ssl;
  const sockets = addresses.filter(relayed);
  const tcp = addresses.filter((spec) => !relayed(spec));
  const permissions = composePermissions(resolved.permissions, tcp, app, WORKER_MODULE);
  if (sockets.length > 0 && permissions !== "inherit" && permissions !== "none") {
    const relay = `loopback relay of ${sockets.map(formatListenSpec).join(" and ")}`;
    const net = permissions.net;
    if (net !== true && net !== "inherit") {
      permissions.net = [...(net === false || net === undefined ? [] : net.map(String)), relay];
    }
  }
  if (app === undefined && permissions !== "inherit" && permissions !== "none") {
    const read = permissions.read;
    if (read !== true && read !== "inherit") {
      permissions.read = [
        "<app dir>",
        ...(read === false || read === undefined ? [] : read.map(String)),
      ];
    }
  }
  return describePermissions(permissions);
}
