/**
 * The permission set of a worker: what the app may do. By default only what serving needs —
 * listening on its own addresses, reading its own directory and the module caches, importing
 * from the hosts Deno trusts by default — plus exactly what the operator granted.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { ListenSpec } from "./listen_spec.ts";
import type { ResolvedPermissions } from "./options.ts";

/** The hosts Deno allows imports from without `--allow-import`. */
export const DEFAULT_IMPORT_HOSTS: readonly string[] = [
  "deno.land:443",
  "jsr.io:443",
  "esm.sh:443",
  "cdn.jsdelivr.net:443",
  "raw.githubusercontent.com:443",
  "gist.githubusercontent.com:443",
];

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
      return spec.hostname.includes(":") ? `[${spec.hostname}]:${spec.port}` : `${spec.hostname}:${spec.port}`;
    case "unix":
      return `unix:${spec.path}`;
    case "abstract":
      return true;
  }
}

/** Where Deno keeps downloaded modules and npm packages, which loading the app reads. */
export function cacheDirectories(): string[] {
  const dirs: string[] = [];
  try {
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) dirs.push(denoDir);
    const xdg = Deno.env.get("XDG_CACHE_HOME");
    const home = Deno.env.get("HOME");
    if (xdg) dirs.push(join(xdg, "deno"));
    else if (home) dirs.push(join(home, ".cache", "deno"));
  } catch {
    // Without env access the cache stays unknown; loading npm packages may then fail clearly.
  }
  return dirs;
}

function hostOf(url: string): string | undefined {
  if (!url.startsWith("http:") && !url.startsWith("https:")) return undefined;
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`;
}

/**
 * The permissions for a worker serving `app` on `listeners`, with the operator's grants.
 *
 * @example
 * ```ts ignore
 * const permissions = workerPermissions(resolved.permissions, listeners, appUrl, workerUrl);
 * ```
 */
export function workerPermissions(
  granted: ResolvedPermissions,
  listeners: ListenSpec[],
  app: string,
  workerModule: string,
): Deno.PermissionOptions {
  if (granted.all) return "inherit";
  const listen = listeners.map(listenDescriptor);
  const net: Grant = listen.includes(true) ? true : merge(listen as string[], granted.net);

  const read: string[] = [...cacheDirectories()];
  const write: string[] = [];
  for (const spec of listeners) {
    if (spec.kind === "unix") {
      read.push(spec.path);
      write.push(spec.path);
    }
  }
  for (const module of [app, workerModule]) {
    if (module.startsWith("file:")) read.push(dirname(fromFileUrl(module)));
  }
  const imports = [...DEFAULT_IMPORT_HOSTS];
  for (const module of [app, workerModule]) {
    const host = hostOf(module);
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
