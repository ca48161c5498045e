/**
 * The `--pid` file: created exclusively with the supervisor's process id (with or without
 * `--daemonize`), refused while the process it names is alive, replaced when that process is
 * gone, and removed when the server exits — only if it still holds our id.
 *
 * @module
 */

import process from "node:process";

/** Whether a process with this id exists (it may belong to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** The id a pid file holds, or `undefined` if it holds none. */
export function readPid(path: string): number | undefined {
  let content: string;
  try {
    content = Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
  const match = /^\s*(\d+)\s*$/.exec(content);
  return match ? Number(match[1]) : undefined;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A pid file this process created. */
export class PidFile {
  /** Absolute path. */
  readonly path: string;
  /** The id written. */
  readonly pid: number;

  private constructor(path: string, pid: number) {
    this.path = path;
    this.pid = pid;
  }

  /**
   * Creates `path` holding `pid` (default: this process), with `O_EXCL` so two servers
   * starting at once cannot both win.
   *
   * @throws {Error} one line naming the file when another live process owns it or it cannot be
   * written.
   */
  static create(path: string, pid: number = Deno.pid): PidFile {
    for (let attempt = 0;; attempt++) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(path, { write: true, createNew: true, mode: 0o644 });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists) || attempt >= 3) {
          throw new Error(`--pid ${path}: ${reason(error)}`);
        }
        const owner = readPid(path);
        if (owner !== undefined && owner !== pid && processAlive(owner)) {
          throw new Error(`--pid ${path}: the server with pid ${owner} is still running`);
        }
        // Stale (its process is gone) or empty or garbage: replace it.
        try {
          Deno.removeSync(path);
        } catch (removal) {
          if (!(removal instanceof Deno.errors.NotFound)) {
            throw new Error(`--pid ${path}: cannot replace the stale file: ${reason(removal)}`);
          }
        }
        continue;
      }
      try {
        const bytes = new TextEncoder().encode(`${pid}\n`);
        let at = 0;
        while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
      } catch (error) {
        file.close();
        try {
          Deno.removeSync(path);
        } catch {
          // Nothing more to do.
        }
        throw new Error(`--pid ${path}: ${reason(error)}`);
      } finally {
        try {
          file.close();
        } catch {
          // Closed above.
        }
      }
      return new PidFile(path, pid);
    }
  }

  /**
   * Removes the file if it still holds our id.
   *
   * @returns false if it could not be removed (no permission left after a privilege drop: the
   * cleanup helper removes it then).
   */
  remove(): boolean {
    if (readPid(this.path) !== this.pid) return true;
    try {
      Deno.removeSync(this.path);
      return true;
    } catch (error) {
      return error instanceof Deno.errors.NotFound;
    }
  }
}
