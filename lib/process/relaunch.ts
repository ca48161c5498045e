/**
 * Re-launching the CLI with the runtime flags it needs.
 *
 * `deno run -A jsr:@x/starlight app.ts` carries neither `--unstable-worker-options` (restricted
 * worker permissions) nor `--unstable-net` (shared listeners), and a terminal on stdin and
 * stderr would let a sandboxed worker prompt the operator for more permissions. Deno has no
 * environment variable for the unstable flags, so the CLI starts itself once more with
 * `--unstable-worker-options --unstable-net --no-prompt`, forwards signals to that child, and
 * exits with its status. The child's stdin is a pipe from the parent: when the parent dies
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

/** Whether the unstable APIs restricted workers and shared listeners need are enabled. */
export function unstableReady(): boolean {
  if (typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram !== "function") {
    return false;
  }
  // `Deno.listenDatagram` proves `--unstable-net` (from flags or a deno.json); nothing shows
  // `--unstable-worker-options`. If only `--unstable-net` is on the command line, the other is
  // probably missing: a worker with permissions would then end the process (exit 70).
  const flags = runtimeFlags();
  if (flags === undefined) return true;
  const has = (name: string) => flags.some((flag) => flag === name || flag.startsWith(name + "="));
  return !has("--unstable-net") || has("--unstable-worker-options") || has("--unstable");
}

/** The runtime has what restricted workers need, and no permission prompt can appear. */
export function runtimeReady(): boolean {
  return unstableReady() && !promptPossible();
}

/**
 * Whether the CLI must re-launch itself before serving.
 *
 * @throws {Error} in a re-launched child that still lacks the flags (e.g. `STARLIGHT_RELAUNCHED`
 * set by hand): it refuses rather than re-launch again or serve where prompts could appear.
 */
export function relaunchNeeded(): boolean {
  if (Deno.build.standalone) return false;
  const ready = runtimeReady();
  if (isRelaunched()) {
    if (!ready) {
      throw new Error(
        `${MARK}=1 is set, but this process still lacks ${RELAUNCH_FLAGS.join(" ")}: ` +
          `not re-launching again; unset ${MARK} or pass those flags to deno yourself`,
      );
    }
    return false;
  }
  return !ready;
}

/**
 * Runs this same command again with {@link RELAUNCH_FLAGS}; resolves to the exit code to use.
 * Throws with a one-line reason when it cannot (no run permission for deno itself, or an
 * unreadable command line) — without ever prompting for either.
 */
export async function relaunch(): Promise<number> {
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
      args: ["run", ...RELAUNCH_FLAGS, ...parts.flags, ...parts.program],
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
