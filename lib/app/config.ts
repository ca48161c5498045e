/**
 * The app's own Deno configuration: which deno.json applies to it, and the deno flags that make
 * a process run with it.
 *
 * `deno serve app.ts` applies the deno.json or deno.jsonc nearest above `app.ts` (Deno looks
 * from the main module's directory, not the working directory): its import map (the bare
 * specifiers `deno add` writes), `nodeModulesDir`, `compilerOptions` and `unstable` list. Web
 * Workers share their process's module resolution, so for Starlight's workers to resolve the
 * app's imports the whole process must run with the app's config: the CLI re-launches itself
 * with {@link appDenoFlags} unless it already runs with it (`lib/process/relaunch.ts`). Process
 * workers started with `deno run` take the same flags.
 *
 * The rule: Starlight's `--config FILE` if given; else the nearest deno.json/deno.jsonc at or
 * above the app file's directory; else none (`--no-config`), as `deno serve` has for an app
 * without one and for an app loaded from a URL. Deno's own `--config` before the script only
 * chooses the configuration of the launching process (`deno install` pins one there).
 *
 * Every file check here is preceded by a permission query: nothing prompts.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { OptionError } from "../options/error.ts";
import { holds } from "../sandbox/query.ts";
import { AppError } from "./errors.ts";

/** The file names Deno looks for, in its order. */
export const CONFIG_FILES: readonly string[] = ["deno.json", "deno.jsonc"];

/**
 * The configuration the app runs with.
 *
 * @example
 * ```ts
 * import type { AppConfig } from "./config.ts";
 * const config: AppConfig = {
 *   path: "/srv/app/deno.json",
 *   source: "nearest",
 *   unstable: ["kv"],
 *   lonePackageJson: undefined,
 * };
 * ```
 */
export interface AppConfig {
  /** Absolute path of the deno.json/deno.jsonc, or `undefined` for none. */
  readonly path: string | undefined;
  /** `option`: Starlight's `--config`; `nearest`: found above the app file; `none`. */
  readonly source: "option" | "nearest" | "none";
  /** The config's `unstable` list (feature names, as `kv` for `--unstable-kv`). */
  readonly unstable: readonly string[];
  /**
   * A package.json nearer the app than any deno.json: Deno reads it (dependencies, bare
   * imports) only beside the deno.json it runs with, so it does not apply on its own.
   */
  readonly lonePackageJson: string | undefined;
}

function readable(path: string): boolean {
  if (!holds({ name: "read", path })) return false;
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The nearest config file at or above `dir`, with any package.json met on the way before it.
 * `exists` decides whether a file is there (tests pass their own).
 *
 * @example
 * ```ts
 * import { nearestConfig } from "./config.ts";
 * const files = new Set(["/srv/deno.json", "/srv/app/package.json"]);
 * nearestConfig("/srv/app", (path) => files.has(path));
 * // { config: "/srv/deno.json", packageJson: "/srv/app/package.json" }
 * ```
 */
export function nearestConfig(
  dir: string,
  exists: (path: string) => boolean = readable,
): { config: string | undefined; packageJson: string | undefined } {
  let packageJson: string | undefined;
  for (let at = dir;;) {
    for (const name of CONFIG_FILES) {
      const candidate = join(at, name);
      if (exists(candidate)) return { config: candidate, packageJson };
    }
    const pkg = join(at, "package.json");
    if (packageJson === undefined && exists(pkg)) packageJson = pkg;
    const parent = dirname(at);
    if (parent === at) return { config: undefined, packageJson };
    at = parent;
  }
}

/**
 * Parses JSON with comments and trailing commas (deno.jsonc, and deno.json, which Deno reads
 * the same way).
 *
 * @throws {SyntaxError} when it is not JSON even so.
 * @example
 * ```ts
 * import { parseJsonc } from "./config.ts";
 * parseJsonc('{ "unstable": ["kv",], // KV\n }'); // { unstable: ["kv"] }
 * ```
 */
export function parseJsonc(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (c === ",") {
      // A comma before a closing bracket (after blanks and comments) is dropped.
      let j = i + 1;
      for (;;) {
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text.startsWith("//", j)) {
          while (j < text.length && text[j] !== "\n") j++;
        } else if (text.startsWith("/*", j)) {
          const end = text.indexOf("*/", j + 2);
          j = end === -1 ? text.length : end + 2;
        } else break;
      }
      if (text[j] !== "}" && text[j] !== "]") out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

/**
 * Reads a config file's `unstable` list.
 *
 * @throws {AppError} one line naming the file, when it cannot be read or parsed.
 */
export function readUnstable(path: string): string[] {
  let parsed: unknown;
  try {
    parsed = parseJsonc(Deno.readTextFileSync(path));
  } catch (error) {
    throw new AppError(`the app's config ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const list = (parsed as { unstable?: unknown } | null)?.unstable;
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === "string") : [];
}

/**
 * The configuration for the app at `app` (a module URL): `explicit` (an absolute path, from
 * Starlight's `--config`), else the nearest deno.json/deno.jsonc above a local app, else none.
 *
 * @throws {OptionError} when `explicit` is not a readable file.
 * @throws {AppError} when the config file is not JSON(C).
 * @example
 * ```ts ignore
 * const config = findAppConfig("file:///srv/app/app.ts", undefined);
 * // { path: "/srv/app/deno.json", source: "nearest", unstable: ["kv"], lonePackageJson: undefined }
 * ```
 */
export function findAppConfig(app: string, explicit: string | undefined): AppConfig {
  if (explicit !== undefined) {
    if (!readable(explicit)) {
      throw new OptionError("--config", `--config ${explicit}: not a readable file`);
    }
    return {
      path: explicit,
      source: "option",
      unstable: readUnstable(explicit),
      lonePackageJson: undefined,
    };
  }
  if (!app.startsWith("file:")) {
    return { path: undefined, source: "none", unstable: [], lonePackageJson: undefined };
  }
  const { config, packageJson } = nearestConfig(dirname(fileURLToPath(app)));
  return {
    path: config,
    source: config === undefined ? "none" : "nearest",
    unstable: config === undefined ? [] : readUnstable(config),
    lonePackageJson: packageJson,
  };
}

/**
 * The deno flags that make a process run with `config`: `--config PATH`, or `--no-config`. The
 * config's `unstable` list applies through the file itself; repeating it as `--unstable-*`
 * flags would turn a name this Deno does not know from a warning into a start-up failure.
 *
 * @example
 * ```ts
 * import { appDenoFlags } from "./config.ts";
 * appDenoFlags({ path: "/srv/deno.json", source: "nearest", unstable: [], lonePackageJson: undefined });
 * // ["--config", "/srv/deno.json"]
 * ```
 */
export function appDenoFlags(config: AppConfig): string[] {
  return config.path === undefined ? ["--no-config"] : ["--config", config.path];
}

/** Whether `flag` is deno's `--config`/`-c` with the value attached. */
function attachedConfig(flag: string): string | undefined {
  if (flag.startsWith("--config=")) return flag.slice("--config=".length);
  if (flag.startsWith("-c") && flag.length > 2) return flag.slice(flag[2] === "=" ? 3 : 2);
  return undefined;
}

/**
 * Runtime flags without any choice of configuration (`--config FILE`, `-c FILE`, `--config=FILE`,
 * `--no-config`), to be replaced by {@link appDenoFlags}.
 *
 * @example
 * ```ts
 * import { withoutConfigFlags } from "./config.ts";
 * withoutConfigFlags(["-A", "--config", "x.json", "--no-lock"]); // ["-A", "--no-lock"]
 * ```
 */
export function withoutConfigFlags(flags: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === "--config" || flag === "-c") i++;
    else if (flag !== "--no-config" && attachedConfig(flag) === undefined) kept.push(flag);
  }
  return kept;
}

/**
 * The config file a process started with runtime `flags` and `mainModule` runs with: the one
 * `--config` names (relative to `cwd`), none under `--no-config`, else the nearest above a local
 * main module (Deno discovers it from there), none for a remote one.
 *
 * @example
 * ```ts
 * import { configInForce } from "./config.ts";
 * configInForce(["-A", "--config", "app/deno.json"], "https://x.example/mod.ts", "/srv");
 * // "/srv/app/deno.json"
 * ```
 */
export function configInForce(
  flags: readonly string[],
  mainModule: string,
  cwd: string,
  exists?: (path: string) => boolean,
): string | undefined {
  for (let i = flags.length - 1; i >= 0; i--) {
    const flag = flags[i];
    if (flag === "--no-config") return undefined;
    if ((flag === "--config" || flag === "-c") && i + 1 < flags.length) {
      return resolve(cwd, flags[i + 1]);
    }
    const attached = attachedConfig(flag);
    if (attached !== undefined) return resolve(cwd, attached);
  }
  if (!mainModule.startsWith("file:")) return undefined;
  return nearestConfig(dirname(fileURLToPath(mainModule)), exists).config;
}

/** Whether two config paths name the same file (through symbolic links too). */
export function sameConfig(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === b) return true;
  const real = (path: string) => {
    try {
      return holds({ name: "read", path }) ? Deno.realPathSync(path) : path;
    } catch {
      return path;
    }
  };
  return real(a) === real(b);
}
