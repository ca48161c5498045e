/**
 * The supervisor–process-worker channel, sans-IO: messages as lines of JSON. The supervisor
 * writes them to the worker's stdin; the worker writes its own to stdout, each line marked with
 * a record separator (U+001E) so that whatever else the app prints there is told apart and
 * forwarded as the app's output. The app shares the worker's process and could forge a frame,
 * as a thread worker's app could post a message: either way the supervisor checks every
 * message (`parseFromWorker`) and trusts none beyond its own worker's lifecycle.
 *
 * @module
 */

/** Marks a line as a frame. */
const MARK = "\x1e";
/**
 * How infinite numbers travel (JSON has none, and a worker's unlimited request limit is
 * `Infinity`): as this string, which no other value can be (it starts with the mark).
 */
const INFINITY = "\x1eInfinity";
const replacer = (_key: string, value: unknown) =>
  value === Infinity ? INFINITY : value === -Infinity ? "-" + INFINITY : value;
const reviver = (_key: string, value: unknown) =>
  value === INFINITY ? Infinity : value === "-" + INFINITY ? -Infinity : value;
/** A line longer than this is cut (a frame never is; app output may be). */
const MAX_LINE = 64 * 1024;

/**
 * A message as one line: the mark (when `marked`), JSON (with `Infinity` kept), a line feed.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frames.ts";
 * encodeFrame({ type: "ping", seq: 1 }, false); // '{"type":"ping","seq":1}\n'
 * ```
 */
export function encodeFrame(message: unknown, marked: boolean): string {
  return (marked ? MARK : "") + JSON.stringify(message, replacer) + "\n";
}

/** What one line was: a frame's message, or text the app printed. */
export type Line = { frame: unknown } | { text: string };

/**
 * What a line of the worker's stdout holds: a frame when it starts with the mark and parses,
 * else the app's own text.
 *
 * @example
 * ```ts
 * import { readLine } from "./frames.ts";
 * readLine('\x1e{"type":"listening"}'); // { frame: { type: "listening" } }
 * readLine("hello from the app"); // { text: "hello from the app" }
 * ```
 */
export function readLine(line: string, marked = true): Line {
  if (marked && !line.startsWith(MARK)) return { text: line };
  try {
    return { frame: JSON.parse(marked ? line.slice(1) : line, reviver) };
  } catch {
    return { text: line };
  }
}

/**
 * Splits a stream of text into lines, however it is chunked; a line longer than 64 KiB is cut
 * into pieces rather than held without bound.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./frames.ts";
 * const lines = new LineSplitter();
 * lines.push("a\nb"); // ["a"]
 * lines.push("c\n"); // ["bc"]
 * ```
 */
export class LineSplitter {
  #rest = "";

  /** The complete lines `chunk` finishes. */
  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split("\n");
    this.#rest = lines.pop()!;
    while (this.#rest.length > MAX_LINE) {
      lines.push(this.#rest.slice(0, MAX_LINE));
      this.#rest = this.#rest.slice(MAX_LINE);
    }
    return lines;
  }

  /** What is left once the stream ended. */
  end(): string[] {
    const rest = this.#rest;
    this.#rest = "";
    return rest === "" ? [] : [rest];
  }
}
