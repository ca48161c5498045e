/**
 * Process workers (`--isolation process`): each worker is a `deno` process of its own, started
 * with the app's permission set as `--allow-*` flags (`sandbox/flags.ts`), `--no-prompt`, the
 * app's Deno config and, with `--max-worker-memory`, a V8 heap limit. Unlike a thread, a process
 * can be stopped when stuck in synchronous code (SIGTERM, then SIGKILL), and one that exhausts
 * its heap dies alone.
 *
 * Messages go as lines of JSON (`frames.ts`): to the worker on its stdin, from it on its stdout.
 * What else it prints (the app's `console.log`, Deno's own errors on stderr) is forwarded to the
 * supervisor's log as the worker's lines. Workers run in a process group of their own, so a
 * terminal's Ctrl-C reaches only the supervisor, which shuts them down gracefully; a worker
 * whose supervisor disappears sees its stdin end and exits.
 *
 * @module
 */

import { encodeFrame, LineSplitter, readLine } from "./frames.ts";
import { permissionFlags } from "../sandbox/flags.ts";
import type {
  SpawnRequest,
  TransportEvents,
  WorkerLauncher,
  WorkerTransport,
} from "./transport.ts";
import type { ToWorker } from "./protocol.ts";

/** Time a worker asked to end (SIGTERM) gets before it is killed (SIGKILL), in ms. */
const KILL_GRACE = 2000;

/** How process workers are started. */
export interface ProcessOptions {
  /** The entry module (`process_worker.ts`). */
  readonly module: URL;
  /** Runtime flags for every worker: config, unstable features, V8 flags. */
  readonly denoFlags: readonly string[];
}

/**
 * Starts process workers.
 *
 * @example
 * ```ts ignore
 * const launcher = new ProcessLauncher({
 *   module: new URL("./process_worker.ts", import.meta.url),
 *   denoFlags: ["--no-config", "--unstable-net"],
 * });
 * ```
 */
export class ProcessLauncher implements WorkerLauncher {
  /** SIGTERM, then SIGKILL, ends any process. */
  readonly stopsStuckWorkers = true;
  readonly #options: ProcessOptions;

  /** Workers run `options.module` with `options.denoFlags`. */
  constructor(options: ProcessOptions) {
    this.#options = options;
  }

  /** Starts a process worker. */
  spawn(request: SpawnRequest, events: TransportEvents): WorkerTransport {
    const child = spawnOrExplain(() =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          ...this.#options.denoFlags,
          ...permissionFlags(request.permissions),
          this.#options.module.href,
          String(request.id),
          String(Deno.pid),
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn()
    );
    let ended = false;
    const input = child.stdin.getWriter();
    const encoder = new TextEncoder();
    forward(child.stdout, (line) => {
      const read = readLine(line);
      if ("frame" in read) events.message(read.frame);
      else events.message({ type: "log", level: "info", message: read.text });
    });
    forward(
      child.stderr,
      (line) => events.message({ type: "log", level: "warning", message: line }),
    );
    child.status.then((status) => {
      ended = true;
      input.close().catch(() => {});
      events.exit(
        status.signal !== null
          ? `its process was killed by ${status.signal}`
          : `its process exited with code ${status.code}`,
      );
    });
    const signal = (name: Deno.Signal) => {
      try {
        child.kill(name);
      } catch {
        // Already gone.
      }
    };
    return {
      send(message: ToWorker) {
        if (ended) return;
        input.write(encoder.encode(encodeFrame(message, false))).catch(() => {});
      },
      terminate() {
        signal("SIGTERM");
        const timer = setTimeout(() => signal("SIGKILL"), KILL_GRACE);
        Deno.unrefTimer(timer);
        child.status.then(() => clearTimeout(timer));
      },
      kill() {
        signal("SIGKILL");
      },
    };
  }
}

/**
 * Runs `spawn`; a refusal to start `deno` (after `--user` dropped privileges, the binary or its
 * directory may be out of that user's reach) becomes one line that says what to do.
 */
function spawnOrExplain(spawn: () => Deno.ChildProcess): Deno.ChildProcess {
  try {
    return spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    throw new Error(
      `process workers cannot run ${Deno.execPath()} as this user (${error.message}); ` +
        "with --user, install deno where that user may run it, or use --isolation thread",
    );
  }
}

/** Calls `line` for each line of `stream`, until it ends. */
async function forward(stream: ReadableStream<Uint8Array>, line: (text: string) => void) {
  const lines = new LineSplitter();
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      for (const text of lines.push(chunk)) line(text);
    }
  } catch {
    // The process is gone.
  }
  for (const text of lines.end()) line(text);
}
