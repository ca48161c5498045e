/**
 * Re-launching the CLI with the runtime flags it needs, and with the app's own Deno config.
 *
 * `deno run -A jsr:@x/starlight app.ts` carries neither `--unstable-worker-options` (restricted
 * worker permissions) nor `--unstable-net` (shared listeners), and a terminal on stdin and
 * stderr would let a sandboxed worker prompt the operator for more permissions. Nor does it run
 * with the app's deno.json, which its workers need: they resolve modules with their process's
 * configuration (import map, `nodeModulesDir`, `compilerOptions`, `unstable`). Deno has no
 * environment variable for these, so the CLI starts itself once more with
 * `--unstable-worker-options --unstable-net --no-prompt` and `--config APP_CONFIG` (or
 * `--no-config`; see `lib/app/config.ts`) in place of any config flag it had, forwards signals
 * to that child, and exits with its status. It does not when it already runs with all of that:
 * started from this repository (whose deno.json lists the unstable features) for an app below
 * it, or as `deno run -A --no-prompt --unstable-worker-options --unstable-net --config
 * app/deno.json …`. The child's stdin is a pipe from the parent: when the parent dies
 * (even by SIGKILL) the child reads end-of-file and shuts down ({@link parentGone}).
 *
 * The child sees `STARLIGHT_RELAUNCHED=1` (and removes it from its environment, so programs
 * it runs do not inherit it); it never re-launches again, and refuses to serve if it still
 * lacks the flags. Compiled binaries carry their flags and never re-launch.
 *
 * Nothing here prompts: every environment read, file read and process spawn is preceded by a
 * `Deno.permissions.querySync`.
 *
 * @module
 */

import {
  type AppConfig,
  appDenoFlags,
  configInForce,
  readUnstable,
  sameConfig,
  withoutConfigFlags,
} from "../app/config.ts";
import { envGet, holds } from "../sandbox/query.ts";

const MARK = "STARLIGHT_RELAUNCHED";
const FORWARDED: Deno.Signal[] = [
  "SIGHUP",
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGTTIN",
  "SIGTTOU",
  "SIGUSR2",
  "SIGWINCH",
];
/** The runtime flags the re-launched child gets, before the original ones. */
export const RELAUNCH_FLAGS: readonly string[] = [
  "--unstable-worker-options",
  "--unstable-net",
  "--no-prompt",
];

const CMDLINE = "/proc/self/cmdline";

/** This process's command line, or `undefined` when it cannot be read without a prompt. */
function commandLine(): string[] | undefined {
  if (!holds({ name: "read", path: CMDLINE })) return undefined;
  try {
    const parts = Deno.readTextFileSync(CMDLINE).split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

/** Deno subcommands other than `run` that can start a program. */
const OTHER_SUBCOMMANDS: ReadonlySet<string> = new Set([
  "x",
  "serve",
  "eval",
  "task",
  "test",
  "bench",
  "repl",
  "jupyter",
]);

/**
 * The command line split into the runtime part and the program part: `deno run -A --no-prompt
 * mod.ts --port 0 app.ts` gives runtime flags `["-A", "--no-prompt"]` and program
 * `["mod.ts", "--port", "0", "app.ts"]`. The program's own arguments are `Deno.args`, so a
 * `--no-prompt` given to the program is never taken for the runtime's. `undefined` when the
 * command cannot be repeated as `deno run …` (another subcommand, or no script).
 */
export function splitCommandLine(
  line: readonly string[],
  programArgs: readonly string[],
): { flags: string[]; program: string[] } | undefined {
  // `deno x …`, `deno eval …` and the like cannot be repeated as `deno run …`.
  if (OTHER_SUBCOMMANDS.has(line[1])) return undefined;
  const start = line[1] === "run" ? 2 : 1;
  const script = line.length - programArgs.length - 1;
  if (script < start) return undefined;
  return { flags: line.slice(start, script), program: line.slice(script) };
}

let relaunched: boolean | undefined;

/** True when this process is the re-launched child. */
export function isRelaunched(): boolean {
  if (relaunched === undefined) {
    relaunched = envGet(MARK) === "1";
    if (relaunched) {
      try {
        // Programs the app runs, or a server it starts, must not take it for a re-launch.
        Deno.env.delete(MARK);
      } catch {
        // Without env write access it stays; the flag checks below still hold.
      }
    }
  }
  return relaunched;
}

function runtimeFlags(): string[] | undefined {
  const line = commandLine();
  return line === undefined ? undefined : splitCommandLine(line, Deno.args)?.flags;
}

/**
 * Whether a permission prompt could appear: Deno prompts only when both stdin and stderr are
 * a terminal, and never under `--no-prompt` or `DENO_NO_PROMPT=1` (exactly `1`).
 */
export function promptPossible(): boolean {
  if (Deno.build.standalone) return false;
  if (!Deno.stdin.isTerminal() || !Deno.stderr.isTerminal()) return false;
  if (envGet("DENO_NO_PROMPT") === "1") return false;
  return !(runtimeFlags()?.includes("--no-prompt") ?? false);
}

/** The config file this process runs with (`null`), or `undefined` when it cannot tell. */
function currentConfig(flags: string[] | undefined): string | null | undefined {
  if (flags === undefined) return undefined;
  return configInForce(flags, Deno.mainModule, Deno.cwd()) ?? null;
}

/** Whether the unstable APIs restricted workers and shared listeners need are enabled. */
export function unstableReady(): boolean {
  if (typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram !== "function") {
    return false;
  }
  // `Deno.listenDatagram` proves `--unstable-net` (from flags or a deno.json); nothing shows
  // `--unstable-worker-options` but the flags and the config in force. Without it a worker with
  // permissions would end the process (exit 70).
  const flags = runtimeFlags();
  const config = currentConfig(flags);
  if (flags === undefined || config === undefined) return true;
  const has = (name: string) => flags.some((flag) => flag === name || flag.startsWith(name + "="));
  if (has("--unstable-worker-options") || has("--unstable")) return true;
  try {
    return config !== null && readUnstable(config).includes("worker-options");
  } catch {
    return false;
  }
}

/**
 * Why this process does not run with the app's config `config`, or `undefined` when it does
 * (or cannot tell: a compiled binary carries its configuration, and an unreadable command line
 * hides it).
 *
 * @example
 * ```ts ignore
 * const why = configMismatch(findAppConfig(app, options.config));
 * if (why !== undefined) log.warning("{why}", { why });
 * ```
 */
export function configMismatch(config: AppConfig): string | undefined {
  if (Deno.build.standalone) return undefined;
  const current = currentConfig(runtimeFlags());
  if (current === undefined || sameConfig(current ?? undefined, config.path)) return undefined;
  const app = config.path === undefined
    ? "the app has no deno.json above it"
    : `the app's is ${config.path}`;
  return `this deno process runs with ${current ?? "no config"}, but ${app}`;
}

/** The runtime has what restricted workers need, and no permission prompt can appear. */
export function runtimeReady(): boolean {
  return unstableReady() && !promptPossible();
}

/**
 * Whether the CLI must re-launch itself before serving: the runtime lacks a flag workers need,
 * a permission prompt could appear, or the process does not run with the app's config.
 *
 * @throws {Error} in a re-launched child that still lacks them (e.g. `STARLIGHT_RELAUNCHED` set by
 * hand): it refuses rather than re-launch again or serve where prompts could appear.
 */
export function relaunchNeeded(config: AppConfig): boolean {
  if (Deno.build.standalone) return false;
  const ready = runtimeReady();
  const mismatch = configMismatch(config);
  if (isRelaunched()) {
    if (!ready || mismatch !== undefined) {
      const lacks = !ready ? RELAUNCH_FLAGS.join(" ") : appDenoFlags(config).join(" ");
      throw new Error(
        `${MARK}=1 is set, but this process still lacks ${lacks}: ` +
          `not re-launching again; unset ${MARK} or pass those flags to deno yourself`,
      );
    }
    return false;
  }
  return !ready || mismatch !== undefined;
}

/**
 * The runtime flags of the re-launched child: {@link RELAUNCH_FLAGS}, the original ones without
 * any choice of config, and the app's config.
 *
 * @example
 * ```ts
 * import { relaunchFlags } from "./relaunch.ts";
 * const config = { path: "/srv/deno.json", source: "nearest" as const, unstable: [], lonePackageJson: undefined };
 * relaunchFlags(["-A", "--config", "/opt/starlight/deno.json"], config);
 * // ["--unstable-worker-options", "--unstable-net", "--no-prompt", "-A", "--config", "/srv/deno.json"]
 * ```
 */
export function relaunchFlags(original: readonly string[], config: AppConfig): string[] {
  return [...RELAUNCH_FLAGS, ...withoutConfigFlags(original), ...appDenoFlags(config)];
}

/**
 * Runs this same command again with {@link relaunchFlags}; resolves to the exit code to use.
 * Throws with a one-line reason when it cannot (no run permission for deno itself, or an
 * unreadable command line) — without ever prompting for either.
 */
export async function relaunch(config: AppConfig): Promise<number> {
  const advice = `run deno with -A, or pass ${RELAUNCH_FLAGS.join(" ")} yourself`;
  const line = commandLine();
  const parts = line === undefined ? undefined : splitCommandLine(line, Deno.args);
  if (parts === undefined) {
    throw new Error(
      line === undefined
        ? `cannot re-launch: ${CMDLINE} is not readable; ${advice}`
        : `cannot re-launch "${line.slice(0, 2).join(" ")} …" as "deno run …"; ${advice}`,
    );
  }
  const deno = Deno.execPath();
  if (!holds({ name: "run", command: deno })) {
    throw new Error(`cannot re-launch: no run permission for ${deno}; ${advice}`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(deno, {
      args: ["run", ...relaunchFlags(parts.flags, config), ...parts.program],
      env: { [MARK]: "1" },
      // A pipe nobody writes to: the child reads end-of-file once this process is gone.
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
      // Its own process group: a terminal's Ctrl-C reaches the child once, through us.
      detached: true,
    }).spawn();
  } catch (error) {
    throw new Error(`cannot re-launch (${(error as Error).message}); ${advice}`);
  }
  const forward = FORWARDED.map((signal) => {
    const handler = () => {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  const status = await child.status;
  for (const remove of forward) remove();
  return status.signal === null ? status.code : 128 + signalNumber(status.signal);
}

/** Linux signal numbers, for the shell's `128 + n` exit code of a child killed by a signal. */
function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGILL: 4,
    SIGTRAP: 5,
    SIGABRT: 6,
    SIGBUS: 7,
    SIGFPE: 8,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGSEGV: 11,
    SIGUSR2: 12,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/**
 * In the re-launched child: resolves when the parent is gone (our stdin pipe closed), so a
 * killed parent never leaves an orphaned server behind.
 */
export async function parentGone(): Promise<void> {
  const buffer = new Uint8Array(64);
  try {
    while ((await Deno.stdin.read(buffer)) !== null) {
      // The parent never writes; anything read is ignored.
    }
  } catch {
    // A read error means the pipe is gone as well.
  }
}
