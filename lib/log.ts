/**
 * Logging through LogTape: one configuration point for the server's own log (stderr or
 * `--error-log`), the banner, and the access log (`--access-log`, and stderr in development).
 *
 * Files are opened once, in append mode, by the main thread (workers send their lines to it),
 * before any privilege drop. Error-log lines are written at once; access-log lines are gathered
 * and written together at most 100 ms later (or at 64 KiB), never by the thread serving the
 * request. {@link reopenLogs} (SIGUSR2) opens the paths afresh after a rotation moved the files;
 * if that fails (say, the server dropped privileges and may not create files there), writing
 * goes on to the old file and the failure is logged.
 *
 * @module
 */

import {
  configure,
  getConfig,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  type Sink,
} from "npm:@logtape/logtape@2.4.2";

/** The supervisor's and workers' events. */
export const log: Logger = getLogger(["starlight", "server"]);
/** Start-up banner lines, printed bare. */
export const banner: Logger = getLogger(["starlight", "banner"]);
/** One combined-format line per response. */
export const accessLog: Logger = getLogger(["starlight", "access"]);

/** Where the logs go. */
export interface LogTargets {
  /** File for everything the server logs (appended); stderr when absent. */
  errorLog?: string;
  /** File for the access log. */
  accessLog?: string;
  /** Also write access lines to stderr (`-E development`). */
  accessToStderr?: boolean;
  /** Print no banner. */
  quiet?: boolean;
}

const encoder = new TextEncoder();
const text = getTextFormatter({
  timestamp: "date-time-timezone",
  value: (value) => typeof value === "string" ? value : Deno.inspect(value),
});

const FLUSH_BYTES = 64 * 1024;
const FLUSH_DELAY = 100;

function writeAllSync(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A log file opened for appending, which can be opened afresh after a rotation. */
class LogFile {
  readonly path: string;
  readonly flag: string;
  #file: Deno.FsFile;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(path: string, flag: string) {
    this.path = path;
    this.flag = flag;
    this.#file = LogFile.#open(path, flag);
  }

  static #open(path: string, flag: string): Deno.FsFile {
    try {
      return Deno.openSync(path, { write: true, append: true, create: true });
    } catch (error) {
      throw new Error(`${flag} ${path}: ${message(error)}`);
    }
  }

  /** Writes now, after anything gathered before. */
  write(bytes: Uint8Array): void {
    if (this.#pendingBytes > 0) this.#gather(bytes);
    else this.#writeNow(bytes);
  }

  /** Gathers `bytes` for a write soon. */
  gather(bytes: Uint8Array): void {
    this.#gather(bytes);
    if (this.#pendingBytes >= FLUSH_BYTES) {
      this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_DELAY);
      Deno.unrefTimer(this.#timer);
    }
  }

  #gather(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
  }

  #writeNow(bytes: Uint8Array): void {
    if (this.#closed) return;
    try {
      writeAllSync(this.#file, bytes);
    } catch {
      // A full disk or a vanished file system: the line is lost, the server goes on.
    }
  }

  /** Writes everything gathered. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pendingBytes === 0) return;
    const all = new Uint8Array(this.#pendingBytes);
    let at = 0;
    for (const chunk of this.#pending) {
      all.set(chunk, at);
      at += chunk.length;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writeNow(all);
  }

  /** Opens the path afresh; on failure keeps the current file and throws. */
  reopen(): void {
    const next = LogFile.#open(this.path, this.flag);
    this.flush();
    const previous = this.#file;
    this.#file = next;
    try {
      previous.close();
    } catch {
      // Already closed.
    }
  }

  close(): void {
    this.flush();
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.close();
    } catch {
      // Already closed.
    }
  }
}

/** The configuration in force: files are shared by the sinks and reopened in place. */
interface State {
  targets: LogTargets;
  errorFile: LogFile | undefined;
  accessFile: LogFile | undefined;
}

let state: State | undefined;
const announced: string[] = [];

function toStderr(bytes: Uint8Array): void {
  try {
    writeAllSync(Deno.stderr, bytes);
  } catch {
    // stderr closed (a daemon without an error log): nothing else can be done with the line.
  }
}

function bare(record: LogRecord): string {
  return String(record.properties.line ?? record.message.join("")) + "\n";
}

function serverSink(record: LogRecord): void {
  const bytes = encoder.encode(text(record));
  if (state?.errorFile !== undefined) state.errorFile.write(bytes);
  else toStderr(bytes);
}

function plainSink(record: LogRecord): void {
  const bytes = encoder.encode(bare(record));
  if (state?.errorFile !== undefined) state.errorFile.write(bytes);
  else toStderr(bytes);
}

function accessSink(record: LogRecord): void {
  const bytes = encoder.encode(bare(record));
  state?.accessFile?.gather(bytes);
  if (state?.targets.accessToStderr) toStderr(bytes);
}

function reuse(
  file: LogFile | undefined,
  path: string | undefined,
  flag: string,
): LogFile | undefined {
  if (path === undefined) return undefined;
  if (file !== undefined && file.path === path) return file;
  return new LogFile(path, flag);
}

/**
 * Configures LogTape for the server. With `onlyIfUnconfigured`, an embedding program that set
 * up LogTape itself keeps its configuration (Starlight logs under the `starlight` category).
 *
 * @throws {Error} one line naming the log file that cannot be opened.
 */
export async function setupLogging(targets: LogTargets, onlyIfUnconfigured = false): Promise<void> {
  if (onlyIfUnconfigured && getConfig() !== null && state === undefined) return;
  const errorFile = reuse(state?.errorFile, targets.errorLog, "--error-log");
  let accessFile: LogFile | undefined;
  try {
    accessFile = reuse(state?.accessFile, targets.accessLog, "--access-log");
  } catch (error) {
    if (errorFile !== state?.errorFile) errorFile?.close();
    throw error;
  }
  if (state?.errorFile !== undefined && state.errorFile !== errorFile) state.errorFile.close();
  if (state?.accessFile !== undefined && state.accessFile !== accessFile) state.accessFile.close();
  state = { targets, errorFile, accessFile };
  const access = targets.accessLog !== undefined || targets.accessToStderr ? ["access"] : [];
  await configure({
    reset: true,
    sinks: { server: serverSink as Sink, plain: plainSink as Sink, access: accessSink as Sink },
    loggers: [
      { category: ["starlight", "server"], sinks: ["server"], lowestLevel: "info" },
      {
        category: ["starlight", "banner"],
        sinks: targets.quiet ? [] : ["plain"],
        lowestLevel: "info",
      },
      { category: ["starlight", "access"], sinks: access, lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
}

/**
 * Opens the log files afresh (after a rotation moved them away). Never rejects: a file that
 * cannot be opened again is reported, and its old file stays in use.
 */
export function reopenLogs(): Promise<void> {
  for (const file of [state?.errorFile, state?.accessFile]) {
    if (file === undefined) continue;
    try {
      file.reopen();
    } catch (error) {
      log.error("cannot reopen the log file: {reason}; still writing to the old file", {
        reason: message(error),
      });
    }
  }
  return Promise.resolve();
}

/** Writes out gathered access-log lines. */
export function flushLogs(): void {
  state?.errorFile?.flush();
  state?.accessFile?.flush();
}

/** Flushes and closes the log files; later lines go to stderr. */
export function closeLogs(): void {
  state?.errorFile?.close();
  state?.accessFile?.close();
  if (state !== undefined) {
    state = { targets: state.targets, errorFile: undefined, accessFile: undefined };
  }
}

/** The log files open now (for the cleanup of a daemon, and tests). */
export function openLogFiles(): string[] {
  return [state?.errorFile?.path, state?.accessFile?.path].filter((path): path is string =>
    path !== undefined
  );
}

globalThis.addEventListener("unload", flushLogs);

/** Writes one access line. */
export function writeAccess(line: string): void {
  accessLog.info("{line}", { line });
}

/** Writes one banner line. */
export function announce(line: string): void {
  announced.push(line);
  banner.info("{line}", { line });
}

/** Every banner line announced so far (a daemon passes them to the command that started it). */
export function announcedLines(): string[] {
  return [...announced];
}
