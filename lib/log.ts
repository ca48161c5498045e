/**
 * The server's log: one format for everything it prints (banner, lifecycle, warnings, errors),
 * plain ASCII text or one JSON object per line (`--log-format json`), to stderr or `--error-log`;
 * and the access log (`--access-log`, and stderr in development), one line per response.
 *
 * A text line is `2026-12-04T18:20:00.123Z [INFO] worker 1 started`: an ISO time in UTC, the
 * level, the message. Bytes outside printable ASCII are escaped (`\x1b`, `\u00e9`), and the
 * lines of a multi-line message (a stack trace) after the first are indented, so nothing a
 * client or an app puts in a message can forge a line or a terminal sequence. A JSON line is
 * `{"time":"…","level":"info","message":"worker 1 started","id":1}`: the message's fields ride
 * along, for log shippers. `-q` keeps warnings and errors only.
 *
 * Starlight has no logging dependency: its modules are loaded under the app's own deno.json (see
 * `lib/app/config.ts`), and under `"nodeModulesDir": "manual"` even a pinned `npm:` import of
 * a logging library would fail to resolve unless the app installed it.
 *
 * Files are opened once, in append mode, by the main thread (workers send their lines to it),
 * before any privilege drop. Server lines are written at once; access lines are gathered and
 * written together at most 100 ms later (or at 64 KiB), never by the thread serving the request,
 * and none is written before the banner. {@link reopenLogs} (SIGUSR2) opens the paths afresh after
 * a rotation; if that fails, writing goes on to the old file and the failure is logged.
 *
 * @module
 */

import type { LogFormat } from "./options/types.ts";

/**
 * A log line's severity.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "@x/starlight";
 * const worthPaging = (level: LogLevel): boolean => level === "error";
 * ```
 */
export type LogLevel = "info" | "warning" | "error";

/**
 * One server log entry, as an embedding program's {@link LogTargets.sink} receives it.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "./log.ts";
 * const record: LogRecord = {
 *   time: Date.now(),
 *   level: "info",
 *   message: "worker 1 started",
 *   fields: { id: 1 },
 * };
 * ```
 */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  /** Its severity. */
  level: LogLevel;
  /** The message with its fields filled in, not yet escaped. */
  message: string;
  /** The fields the message was made of (`{id}` in the template is `fields.id`). */
  fields: Record<string, unknown>;
}

/**
 * Writes server log lines: `template` names fields in braces, filled from `fields`.
 *
 * @example
 * ```ts
 * import { log } from "./log.ts";
 * log.info("worker {id} started", { id: 1 });
 * ```
 */
export interface Logger {
  /** A routine event (silenced by `-q`). */
  info(template: string, fields?: Record<string, unknown>): void;
  /** Something an operator should look at. */
  warning(template: string, fields?: Record<string, unknown>): void;
  /** Something failed. */
  error(template: string, fields?: Record<string, unknown>): void;
}

/** Where the logs go and how they look. */
export interface LogTargets {
  /** File for everything the server logs (appended); stderr when absent. */
  errorLog?: string;
  /** File for the access log. */
  accessLog?: string;
  /** Also write access lines to stderr (`-E development`). */
  accessToStderr?: boolean;
  /** No banner, and no routine (info) lines: warnings and errors only. */
  quiet?: boolean;
  /** `text` (default) or `json`. */
  format?: LogFormat;
  /** Hands every server log record to this function instead of writing it (embedding). */
  sink?: (record: LogRecord) => void;
}

const encoder = new TextEncoder();

const FLUSH_BYTES = 64 * 1024;
const FLUSH_DELAY = 100;
/** Access lines held until the banner; beyond this many, further ones are counted, not kept. */
const HELD_ACCESS_LINES = 10_000;

function writeAllSync(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
}

function reasonOf(error: unknown): string {
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
      throw new Error(`${flag} ${path}: ${reasonOf(error)}`);
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

/** The configuration in force: files are shared by the writers and reopened in place. */
interface State {
  targets: LogTargets;
  errorFile: LogFile | undefined;
  accessFile: LogFile | undefined;
}

let state: State | undefined;
const announced: string[] = [];
/** Access lines waiting for the banner; `undefined` once it is out. */
let heldAccess: string[] | undefined = [];
let droppedAccess = 0;

function toStderr(bytes: Uint8Array): void {
  try {
    writeAllSync(Deno.stderr, bytes);
  } catch {
    // stderr closed (a daemon without an error log): nothing else can be done with the line.
  }
}

const LEVEL_TEXT: Readonly<Record<LogLevel, string>> = {
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
};

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/**
 * Escapes `text` to printable ASCII: control bytes as `\xhh`, other characters beyond ASCII as
 * `\uhhhh` (or `\u{hhhhh}`), a backslash as `\\`. With `continuation`, a line feed is kept and the
 * next line indented by it, so a stack trace stays readable yet no line of it can pass for a
 * log line of its own.
 *
 * @example
 * ```ts
 * import { escapeLogText } from "./log.ts";
 * escapeLogText("caf\u00e9\n\x1b[31m", "\n    "); // "caf\\u00e9\n    \\x1b[31m"
 * ```
 */
export function escapeLogText(text: string, continuation?: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) continue;
    out += text.slice(start, i);
    start = i + 1;
    if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a && continuation !== undefined) out += continuation;
    else if (c < 0x20 || c === 0x7f) out += "\\x" + hex(c, 2);
    else {
      const point = text.codePointAt(i)!;
      if (point > 0xffff) {
        out += `\\u{${hex(point, 5)}}`;
        i++;
        start = i + 1;
      } else out += "\\u" + hex(point, 4);
    }
  }
  return start === 0 ? text : out + text.slice(start);
}

/** A field's value as message text: strings as they are, errors with their stack. */
function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (typeof value === "number" || typeof value === "boolean" || value === undefined) {
    return String(value);
  }
  return Deno.inspect(value, { colors: false, breakLength: Infinity });
}

function fill(template: string, fields: Record<string, unknown>): string {
  return template.replace(
    /\{(\w+)\}/g,
    (whole, name: string) => Object.hasOwn(fields, name) ? fieldText(fields[name]) : whole,
  );
}

/** A field's value as JSON can carry it. */
function jsonValue(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === "string") return value ?? null;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean") return value;
  return fieldText(value);
}

const RESERVED = new Set(["time", "level", "message"]);
const NON_ASCII = /[\u007f-\uffff]/g;

/**
 * One record as the line the log gets, ending in a line feed.
 *
 * @example
 * ```ts
 * import { formatLogRecord } from "./log.ts";
 * const record = { time: 0, level: "info" as const, message: "hi", fields: { id: 1 } };
 * formatLogRecord(record, "text"); // "1970-01-01T00:00:00.000Z [INFO] hi\n"
 * formatLogRecord(record, "json"); // '{"time":"1970-01-01T00:00:00.000Z","level":"info","message":"hi","id":1}\n'
 * ```
 */
export function formatLogRecord(record: LogRecord, format: LogFormat): string {
  const time = new Date(record.time).toISOString();
  if (format === "text") {
    return `${time} [${LEVEL_TEXT[record.level]}] ${escapeLogText(record.message, "\n    ")}\n`;
  }
  const object: Record<string, unknown> = { time, level: record.level, message: record.message };
  for (const [name, value] of Object.entries(record.fields)) {
    object[RESERVED.has(name) ? `field_${name}` : name] = jsonValue(value);
  }
  // JSON.stringify escapes control characters; the rest of the non-ASCII is escaped here, one
  // UTF-16 unit at a time, as JSON spells characters beyond the BMP.
  return JSON.stringify(object).replace(NON_ASCII, (c) => "\\u" + hex(c.charCodeAt(0), 4)) +
    "\n";
}

function emit(level: LogLevel, template: string, fields: Record<string, unknown>): string {
  const record: LogRecord = { time: Date.now(), level, message: fill(template, fields), fields };
  const line = formatLogRecord(record, state?.targets.format ?? "text");
  if (state?.targets.sink !== undefined) {
    try {
      state.targets.sink(record);
    } catch {
      // An embedding program's sink that throws must not take the server down.
    }
    return line;
  }
  const bytes = encoder.encode(line);
  if (state?.errorFile !== undefined) state.errorFile.write(bytes);
  else toStderr(bytes);
  return line;
}

function server(level: LogLevel) {
  return (template: string, fields: Record<string, unknown> = {}): void => {
    if (level === "info" && state?.targets.quiet) return;
    emit(level, template, fields);
  };
}

/** The server's log: the supervisor's, the workers' and the CLI's events. */
export const log: Logger = {
  info: server("info"),
  warning: server("warning"),
  error: server("error"),
};

function writeAccessNow(line: string): void {
  const bytes = encoder.encode(line + "\n");
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
 * Configures the logs for a server about to start: access lines are held from now until
 * {@link announceBanner}.
 *
 * @throws {Error} one line naming the log file that cannot be opened.
 * @example
 * ```ts ignore
 * setupLogging({ errorLog: "/var/log/starlight.log", format: "json" });
 * ```
 */
export function setupLogging(targets: LogTargets): void {
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
  heldAccess ??= [];
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
        reason: reasonOf(error),
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

/** Writes one access line (held until the banner is out). */
export function writeAccess(line: string): void {
  if (heldAccess === undefined) {
    writeAccessNow(line);
  } else if (heldAccess.length < HELD_ACCESS_LINES) {
    heldAccess.push(line);
  } else {
    droppedAccess++;
  }
}

/**
 * Prints the banner (unless quiet), each line as an info record with `fields`, then writes
 * the access lines held since {@link setupLogging}: no request is logged before the banner.
 *
 * @example
 * ```ts ignore
 * announceBanner([{ message: "Starting … listening at port 5000", fields: { url: "http://0.0.0.0:5000/" } }]);
 * ```
 */
export function announceBanner(
  lines: readonly { message: string; fields?: Record<string, unknown> }[],
): void {
  if (!state?.targets.quiet) {
    for (const { message, fields } of lines) {
      announced.push(emit("info", "{banner}", { banner: message, ...fields }).trimEnd());
    }
  }
  const held = heldAccess ?? [];
  heldAccess = undefined;
  for (const line of held) writeAccessNow(line);
  if (droppedAccess > 0) {
    log.warning("{count} access line(s) from before the banner were dropped", {
      count: droppedAccess,
    });
    droppedAccess = 0;
  }
}

/** Every banner line printed so far, as printed (a daemon passes them to the command that started it). */
export function announcedLines(): string[] {
  return [...announced];
}

/**
 * An error as one line for a message or a log: `Name: message`, or the value as text.
 *
 * @example
 * ```ts
 * import { describeError } from "./log.ts";
 * describeError(new TypeError("bad")); // "TypeError: bad"
 * ```
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
