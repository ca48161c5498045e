/**
 * Re-launching the CLI with the runtime flags it needs.
 *
 * `deno run -A jsr:@x/starlight app.ts` carries neither `--unstable-worker-options` (restricted
 * worker permissions) nor `--unstable-net` (shared listeners), and a terminal on stdin would let
 * a sandboxed worker prompt the operator for more permissions. Deno has no environment variable
 * for either, so the CLI starts itself once more with the flags and `--no-prompt`, forwards
 * signals to that child, and exits with its status. The child sees `STARLIGHT_RELAUNCHED=1` and
 * never re-launches again; compiled binaries carry their flags and never re-launch.
 *
 * @module
 */

const MARK = "STARLIGHT_RELAUNCHED";
const FORWARDED: Deno.Signal[] = ["SIGHUP", "SIGTERM", "SIGINT", "SIGQUIT", "SIGTTIN", "SIGTTOU", "SIGUSR2", "SIGWINCH"];
const FLAGS = ["--unstable-worker-options", "--unstable-net", "--no-prompt"];

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function commandLine(): string[] | undefined {
  try {
    const parts = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

/** True when this process is the re-launched child. */
export function isRelaunched(): boolean {
  return envGet(MARK) === "1";
}

/** The runtime has what restricted workers need, and no permission prompt can appear. */
export function runtimeReady(): boolean {
  const unstable = typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram === "function";
  const noPrompt = !Deno.stdin.isTerminal() || envGet("DENO_NO_PROMPT") === "1" ||
    (commandLine()?.includes("--no-prompt") ?? false);
  return unstable && noPrompt;
}

/** Whether the CLI must re-launch itself before serving. */
export function relaunchNeeded(): boolean {
  return !Deno.build.standalone && !isRelaunched() && !runtimeReady();
}

/**
 * Runs this same command again with the needed flags; resolves to the exit code to use.
 * Throws with a one-line reason when it cannot (no `--allow-run` or unreadable command line).
 */
export async function relaunch(): Promise<number> {
  const line = commandLine();
  if (line === undefined || line.length < 2) {
    throw new Error("cannot re-launch with --unstable-worker-options --unstable-net --no-prompt: run with -A or pass those flags yourself");
  }
  const rest = line[1] === "run" ? line.slice(2) : line.slice(1);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...FLAGS, ...rest],
      env: { [MARK]: "1" },
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
      // Its own process group: a terminal's Ctrl-C reaches the child once, through us.
      detached: true,
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot re-launch with ${FLAGS.join(" ")} (${(error as Error).message}): run with -A or pass those flags yourself`,
    );
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
  return status.signal === null ? status.code : 128 + (Deno.build.os === "linux" ? signalNumber(status.signal) : 0);
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
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
