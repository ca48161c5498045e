/**
 * The app's permission set as `deno` flags, for a process worker: the same grants a thread
 * worker gets as `Deno.PermissionOptions`, spelled as `--allow-*` flags, so both kinds of
 * worker run the app in the same sandbox.
 *
 * @module
 */

const KINDS = ["net", "read", "write", "env", "run", "sys", "ffi", "import"] as const;

/**
 * `permissions` as `deno run` flags. `true` is a bare `--allow-x`; a list is `--allow-x=a,b`;
 * `false`, an empty list or absence grants nothing. `"inherit"` (the whole set or one kind) is
 * not accepted: a process inherits nothing, so the set must be explicit.
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./flags.ts";
 * permissionFlags({ net: ["127.0.0.1:8080"], read: ["/srv/app"], env: false });
 * // ["--allow-net=127.0.0.1:8080", "--allow-read=/srv/app"]
 * ```
 *
 * @throws {TypeError} for `"inherit"`, or an entry with a comma (it would split in two).
 */
export function permissionFlags(permissions: Deno.PermissionOptions): string[] {
  if (permissions === "inherit") throw new TypeError("a process worker cannot inherit permissions");
  if (permissions === "none") return [];
  const flags: string[] = [];
  for (const kind of KINDS) {
    const grant = (permissions as Record<string, unknown>)[kind];
    if (grant === undefined || grant === false) continue;
    if (grant === "inherit") {
      throw new TypeError(`a process worker cannot inherit the ${kind} permission`);
    }
    if (grant === true) {
      flags.push(`--allow-${kind}`);
      continue;
    }
    const entries = (grant as (string | URL)[]).map(String);
    if (entries.length === 0) continue;
    const bad = entries.find((entry) => entry.includes(","));
    if (bad !== undefined) {
      throw new TypeError(`--allow-${kind}: ${JSON.stringify(bad)} contains a comma`);
    }
    flags.push(`--allow-${kind}=${entries.join(",")}`);
  }
  return flags;
}
