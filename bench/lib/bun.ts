/**
 * Bun, for the reference rows: the Linux x64 binary that npm's `@oven/bun-linux-x64` package
 * ships, installed on demand into the ignored `bench/.cache/bun/` together with the Hono that
 * deno.json pins. Bun runs with `--no-install`, so it never fetches packages itself. It serves
 * a fresh copy of bench/apps/ in `bench/.cache/bun/node_modules/.bench-apps/`, because Bun
 * resolves a package's subpaths (`hono/bun`) only from a node_modules above the importing file,
 * not through NODE_PATH; inside node_modules, `deno fmt`, `lint` and `check` leave the copy be.
 *
 * @module
 */

import { log } from "./log.ts";

/** The Bun release measured; bump it here. */
export const BUN_PACKAGE = "@oven/bun-linux-x64@1.4.5";

const cacheDir = new URL("../.cache/bun/", import.meta.url).pathname;
const appsDir = `${cacheDir}node_modules/.bench-apps/`;
const cachedBinary = `${cacheDir}node_modules/@oven/bun-linux-x64/bin/bun`;

/** How to run Bun: the binary, and where the copy of bench/apps/ is. */
export interface Bun {
  path: string;
  appsDir: string;
}

let found: Promise<Bun | string> | undefined;

/**
 * Bun, or why there is none. `BUN=/path/to/bun` uses that binary; otherwise the cached one,
 * installed first with npm when `install` allows (once per checkout, about 40 MB download).
 */
export function findBun(install: boolean): Promise<Bun | string> {
  found ??= locate(install);
  return found;
}

async function locate(install: boolean): Promise<Bun | string> {
  const binary = await binaryPath(install);
  if ("why" in binary) return binary.why;
  copyTree(new URL("../apps/", import.meta.url).pathname, appsDir);
  return { path: binary.path, appsDir };
}

async function binaryPath(install: boolean): Promise<{ path: string } | { why: string }> {
  const given = Deno.env.get("BUN");
  if (given) return { path: given };
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return { why: `no ${BUN_PACKAGE} for ${Deno.build.os}/${Deno.build.arch}; set BUN=` };
  }
  if (isFile(cachedBinary)) return { path: cachedBinary };
  if (!install) {
    return { why: "Bun is not in bench/.cache/bun and --offline forbids installing it" };
  }
  const hono = honoVersion();
  log(`  installing ${BUN_PACKAGE} and hono@${hono} from npm into bench/.cache/bun (once)`);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        cacheDir,
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        BUN_PACKAGE,
        `hono@${hono}`,
      ],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(300_000),
    }).output();
  } catch (e) {
    return { why: `npm could not run: ${e instanceof Error ? e.message : e}` };
  }
  if (!output.success) {
    const last = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
    return { why: `npm could not install ${BUN_PACKAGE}: ${last}` };
  }
  return isFile(cachedBinary) ? { path: cachedBinary } : { why: `${BUN_PACKAGE} has no bin/bun` };
}

/** The Hono version deno.json pins, so Bun runs the same Hono as Deno. */
function honoVersion(): string {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)));
  return String(config.imports?.hono ?? "npm:hono@4").replace(/^npm:hono@/, "");
}

/** Copies the files under `from` to `to`, replacing what is there. */
function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isDirectory) copyTree(`${from}${entry.name}/`, `${to}${entry.name}/`);
    else if (entry.isFile) Deno.copyFileSync(`${from}${entry.name}`, `${to}${entry.name}`);
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
