/**
 * Who is measured, as data. Starlight's configurations are rows of CLI flags (`ENGINES`,
 * `ISOLATIONS`): adding one is one line, and a row whose flags this Starlight rejects is skipped
 * with the CLI's message, so rows for features still being built run as soon as they land.
 * The peers (`Deno.serve`, `deno serve`, node:http, Bun) serve the same apps from bench/apps/.
 *
 * @module
 */

import { findBun } from "./bun.ts";
import { rejectedFlags } from "./probe.ts";
import type { Options } from "./scenario.ts";
import type { Contender } from "./servers.ts";

/** One Starlight configuration: the CLI flags that select it. */
export interface Variant {
  label: string;
  /** Its summary column, for variants that appear in the summary. */
  column?: string;
  flags: string[];
}

/** The engines every scenario measures. */
export const ENGINES: Variant[] = [
  { label: "Starlight", column: "Starlight", flags: [] },
  { label: "Starlight native", column: "Starlight native", flags: ["--engine", "native"] },
];

/** Worker isolations, side by side in the `isolation` scenario (issue 15). */
export const ISOLATIONS: Variant[] = [
  { label: "Starlight --isolation thread", flags: ["--isolation", "thread"] },
  { label: "Starlight --isolation process", flags: ["--isolation", "process"] },
];

/** The summary's columns, in order; contenders name theirs in `Contender.column`. */
export const COLUMNS = [
  "Starlight",
  "Starlight native",
  "Deno.serve",
  "deno serve",
  "node:http",
  "Bun",
];

const deno = Deno.execPath();
/** The system Node at /usr/bin/node, else whichever is on PATH. */
export const node = exists("/usr/bin/node") ? "/usr/bin/node" : "node";
const peersDir = new URL("../peers/", import.meta.url).pathname;

/** The absolute path of `bench/apps/<name>.ts`. */
export function appPath(name: string): string {
  return new URL(`../apps/${name}.ts`, import.meta.url).pathname;
}

export interface StarlightSetup {
  /** 0 serves in the main thread, on one core. */
  workers: number;
  variant?: Variant;
  /** Further CLI flags, checked like the variant's. */
  flags?: string[];
  label?: string;
}

/** Starlight's CLI at `entry` (its mod.ts) serving `bench/apps/<app>.ts`. */
export function starlight(entry: string, app: string, setup: StarlightSetup): Contender {
  const variant = setup.variant ?? ENGINES[0];
  const flags = [...variant.flags, ...setup.flags ?? []];
  return {
    label: setup.label ??
      (setup.workers ? `${variant.label} --workers ${setup.workers}` : variant.label),
    column: variant.column,
    argv: (port) => [
      deno,
      "run",
      "-A",
      "--no-prompt",
      "--unstable-net",
      "--unstable-worker-options",
      entry,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      String(setup.workers),
      "-q",
      ...flags,
      appPath(app),
    ],
    unavailable: () =>
      Promise.resolve(exists(entry) ? rejectedFlags(entry, flags) : `${entry} not found`),
  };
}

/** The `Deno.serve` API, through peers/deno_serve.ts: the baseline. */
export function denoServeApi(app: string): Contender {
  return {
    label: "Deno.serve",
    column: "Deno.serve",
    argv: (port) => [
      deno,
      "run",
      "-A",
      peersDir + "deno_serve.ts",
      new URL(`file://${appPath(app)}`).href,
      String(port),
    ],
  };
}

/** The `deno serve` CLI; with `jobs`, `--parallel` across that many workers. */
export function denoServeCli(app: string, jobs?: number): Contender {
  return {
    label: jobs ? `deno serve --parallel ${jobs}` : "deno serve",
    column: "deno serve",
    argv: (port) => [
      deno,
      "serve",
      "-A",
      ...(jobs ? ["--parallel"] : []),
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      appPath(app),
    ],
    env: jobs ? { DENO_JOBS: String(jobs) } : undefined,
  };
}

/** node:http, through the app's twin in peers/node_http.mjs (which says when there is none). */
export function nodeHttp(app: string): Contender {
  return {
    label: "node:http",
    column: "node:http",
    argv: (port) => [node, peersDir + "node_http.mjs", app, String(port)],
    unavailable: async () => {
      try {
        await new Deno.Command(node, { args: ["--version"], stdout: "null" }).output();
        return undefined;
      } catch {
        return "node is not installed";
      }
    },
  };
}

/** `Bun.serve` running the very same app file (a copy of it), through peers/bun_serve.mjs. */
export function bun(app: string, options: Options): Contender {
  let path = "bun";
  let apps = "";
  return {
    label: "Bun",
    column: "Bun",
    argv: (port) => [
      path,
      "--no-install",
      peersDir + "bun_serve.mjs",
      `${apps}${app}.ts`,
      String(port),
    ],
    unavailable: async () => {
      const found = await findBun(options.installBun);
      if (typeof found === "string") return found;
      path = found.path;
      apps = found.appsDir;
      return undefined;
    },
  };
}

/** The contenders on one core: every engine (`--workers 0`), then the peers. */
export function singleCore(options: Options, app: string): Contender[] {
  return only(options, [
    ...ENGINES.map((variant) => starlight(options.starlight, app, { workers: 0, variant })),
    denoServeApi(app),
    denoServeCli(app),
    nodeHttp(app),
    bun(app, options),
  ]);
}

/** The contenders `--only` keeps: those whose label contains one of its words. */
export function only(options: Options, contenders: Contender[]): Contender[] {
  const words = options.only?.map((w) => w.toLowerCase());
  if (!words?.length) return contenders;
  return contenders.filter((c) => words.some((w) => c.label.toLowerCase().includes(w)));
}

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
