/**
 * The process-level options, in the order the original applies them: the identity is checked
 * and the pid file created before anything listens; once every listener, the pid file and the
 * logs are open, privileges are dropped (`--user`, `--group`) and the umask set (`--umask`); at
 * exit the pid file and socket files are removed.
 *
 * After a privilege drop the server usually may not remove files in the directories root
 * created them in (`/run`, say). So before dropping, a tiny root helper is started (`/bin/sh`,
 * in its own session, ignoring signals) that waits for the server's end — the pipe to it closes
 * when the server exits, even by SIGKILL — and then removes the pid file (if it still holds the
 * server's id) and the socket files. See `daemon.ts` for `--daemonize`.
 *
 * @module
 */

import { PidFile } from "./pid_file.ts";
import { dropPrivileges, type Identity, needsSwitch, resolveIdentity } from "./privileges.ts";
import { ownSocketFiles, removeOwnSocketFiles } from "../listen/unix_socket.ts";

/** The process options `ProcessControl` applies (a subset of `ResolvedOptions`). */
export interface ProcessOptions {
  /** `--pid`: absolute path. */
  pid?: string;
  /** `--user`. */
  user?: string;
  /** `--group`. */
  group?: string;
  /** `--umask`. */
  umask?: number;
}

const CLEANUP_SCRIPT = [
  'trap "" HUP INT QUIT TERM USR2 TTIN TTOU WINCH',
  "cat >/dev/null",
  "pidfile=$1; pid=$2; shift 2",
  'if [ -n "$pidfile" ] && [ "$(cat "$pidfile" 2>/dev/null)" = "$pid" ]; then rm -f "$pidfile"; fi',
  'for s in "$@"; do if [ -S "$s" ]; then rm -f "$s"; fi; done',
].join("\n");

/** The pid file, identity and cleanup of one server process. */
export class ProcessControl {
  readonly #options: ProcessOptions;
  readonly #identity: Identity | undefined;
  readonly #pidFile: PidFile | undefined;
  #helper: Deno.ChildProcess | undefined;
  #helperInput: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #finished = false;

  private constructor(
    options: ProcessOptions,
    identity: Identity | undefined,
    pidFile: PidFile | undefined,
  ) {
    this.#options = options;
    this.#identity = identity;
    this.#pidFile = pidFile;
  }

  /**
   * Before listening: resolves `--user`/`--group` (an unknown name is an error now, before
   * anything is served) and creates the pid file.
   *
   * @throws {Error} one line naming the option or file.
   */
  static begin(options: ProcessOptions): ProcessControl {
    const identity = resolveIdentity(options.user, options.group);
    const pidFile = options.pid === undefined ? undefined : PidFile.create(options.pid);
    return new ProcessControl(options, identity, pidFile);
  }

  /** The identity the server switches to, if any. */
  get identity(): Identity | undefined {
    return this.#identity;
  }

  /**
   * Once everything is open: gives UNIX socket files the mode `--umask` implies, starts the
   * cleanup helper if privileges are dropped, drops them, and sets the umask.
   *
   * @throws {Error} one line if the drop fails (the server must not go on serving then).
   */
  afterListening(): void {
    const umask = this.#options.umask;
    const sockets = ownSocketFiles();
    if (umask !== undefined) {
      // The sockets were bound before the umask applies; give them the mode it would have.
      for (const path of sockets) {
        try {
          Deno.chmodSync(path, 0o777 & ~umask);
        } catch {
          // Not fatal: the socket keeps its mode.
        }
      }
    }
    if (this.#identity !== undefined && needsSwitch(this.#identity)) {
      if (this.#pidFile !== undefined || sockets.length > 0) this.#startHelper(sockets);
      dropPrivileges(this.#identity);
    }
    if (umask !== undefined) Deno.umask(umask);
  }

  #startHelper(sockets: string[]): void {
    try {
      const child = new Deno.Command("/bin/sh", {
        args: [
          "-c",
          CLEANUP_SCRIPT,
          "starlight-cleanup",
          this.#pidFile?.path ?? "",
          String(this.#pidFile?.pid ?? ""),
          ...sockets,
        ],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      child.unref();
      this.#helper = child;
      this.#helperInput = child.stdin.getWriter();
    } catch {
      // Without the helper the files may stay behind; the next start replaces stale ones.
    }
  }

  /** At exit: removes the pid file and socket files, or lets the helper do it. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#pidFile?.remove();
    removeOwnSocketFiles();
    if (this.#helperInput !== undefined) {
      // End of input: the helper removes what this process could not, and exits.
      await this.#helperInput.close().catch(() => {});
      await this.#helper?.status.catch(() => {});
    }
  }
}
