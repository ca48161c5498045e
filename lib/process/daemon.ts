/**
 * `-D`/`--daemonize`: the command runs itself again, detached (a new session, no terminal),
 * with stdin from `/dev/null` and stdout and stderr appended to the error log (or `/dev/null`),
 * and waits until that daemon listens. It then prints the daemon's banner and exits 0 — or
 * prints the daemon's start-up error and exits 1. The daemon keeps the working directory (every
 * path option is already absolute, and the app's own relative paths keep working).
 *
 * The daemon reports through a status file in a private temporary directory: it opens the file
 * at start, before dropping privileges, and writes one JSON line when it listens or fails.
 *
 * @module
 */

import { RELAUNCH_FLAGS, splitCommandLine } from "./relaunch.ts";

const STATUS_ENV = "STARLIGHT_DAEMON_STATUS";
const LOG_ENV = "STARLIGHT_DAEMON_LOG";
const POLL = 25;

/** What the daemon reports. */
type Status = { ready: true; pid: number; banner: string[] } | { ready: false; error: string };

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The channel a daemon reports its start on. */
export class DaemonStatus {
  #file: Deno.FsFile | undefined;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * In a daemon started by {@link daemonize}: opens the status file (and removes the variables
   * from the environment, so programs the app runs do not inherit them). `undefined` otherwise.
   */
  static fromEnvironment(): DaemonStatus | undefined {
    const path = env(STATUS_ENV);
    if (path === undefined) return undefined;
    try {
      Deno.env.delete(STATUS_ENV);
      Deno.env.delete(LOG_ENV);
    } catch {
      // Without env write access they stay.
    }
    try {
      return new DaemonStatus(Deno.openSync(path, { write: true }));
    } catch {
      return undefined;
    }
  }

  /** The daemon listens: `banner` is what it would have printed. */
  ready(banner: string[]): void {
    this.#report({ ready: true, pid: Deno.pid, banner });
  }

  /** The daemon could not start. */
  failed(error: string): void {
    this.#report({ ready: false, error });
  }

  #report(status: Status): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(status) + "\n");
      let at = 0;
      while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
    } catch {
      // The starting command is gone; nothing to tell.
    } finally {
      file.close();
    }
  }
}

/** The command that starts this same program again, with the runtime flags workers need. */
function daemonCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath(), ...Deno.args];
  let line: string[];
  try {
    line = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch (error) {
    throw new Error(
      `--daemonize: cannot read this process's command line: ${(error as Error).message}`,
    );
  }
  if (line.at(-1) === "") line.pop();
  const parts = splitCommandLine(line, Deno.args);
  if (parts === undefined) {
    throw new Error("--daemonize: cannot tell the runtime flags from the program's");
  }
  const missing = RELAUNCH_FLAGS.filter((flag) => !parts.flags.includes(flag));
  return [Deno.execPath(), "run", ...missing, ...parts.flags, ...parts.program];
}

/**
 * Starts the daemon and waits for it to listen. Prints the daemon's banner lines (unless
 * `quiet`) or its error to stderr; resolves to the exit code for this command.
 */
export async function daemonize(errorLog: string | undefined, quiet: boolean): Promise<number> {
  const command = daemonCommand();
  const dir = await Deno.makeTempDir({ prefix: "starlight-daemon-" });
  const statusPath = `${dir}/status`;
  await Deno.writeTextFile(statusPath, "", { mode: 0o600 });
  const write = (line: string) => {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
    } catch {
      // No stderr.
    }
  };
  try {
    // The shell sets up the descriptors, then becomes the daemon (exec keeps the process id).
    const script = 'exec "$@" </dev/null >>"${' + LOG_ENV + ':-/dev/null}" 2>&1';
    const child = new Deno.Command("/bin/sh", {
      args: ["-c", script, "starlight", ...command],
      env: { [STATUS_ENV]: statusPath, ...(errorLog === undefined ? {} : { [LOG_ENV]: errorLog }) },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    // Only the shell's own errors come through here (say, an error log it cannot open).
    const shellErrors = new Response(child.stderr).text();
    let exited: Deno.CommandStatus | undefined;
    child.status.then((status) => exited = status);
    child.unref();
    for (;;) {
      const status = readStatus(statusPath);
      if (status !== undefined) {
        if (!status.ready) {
          write(`starlight: ${status.error}`);
          return 1;
        }
        if (!quiet) { for (const line of status.banner) write(line); }
        write(`Starlight daemon running with pid ${status.pid}`);
        return 0;
      }
      if (exited !== undefined) {
        const last = readStatus(statusPath);
        if (last !== undefined) continue;
        const detail = (await shellErrors).trim().split("\n").at(-1);
        write(
          `starlight: the daemon exited with code ${exited.code} before listening` +
            (detail ? `: ${detail}` : errorLog === undefined ? "" : `; see ${errorLog}`),
        );
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL));
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function readStatus(path: string): Status | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
  if (!text.endsWith("\n")) return undefined;
  try {
    return JSON.parse(text) as Status;
  } catch {
    return undefined;
  }
}
