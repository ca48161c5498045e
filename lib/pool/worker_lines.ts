/**
 * Text from a worker on its way into the server's logs. The app shares the worker's isolate and
 * can post anything as a log or access line, so every line is made safe here, in the
 * supervisor: control characters are escaped (no forged lines), each line is capped in size,
 * and each worker's lines are rate-limited in bytes per second.
 *
 * @module
 */

/** Longest server-log line a worker may send (characters; the rest is cut). */
export const MAX_LOG_LINE = 4096;
/**
 * Longest access-log line: a request line (8 KiB at most) plus a `Referer` and a `User-Agent`
 * shown in full.
 */
export const MAX_ACCESS_LINE = 32 * 1024;

// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * Escapes what could end or forge a log line: C0 and C1 control characters and DEL as `\xhh`,
 * the Unicode line and paragraph separators as `\u2028`/`\u2029`; cuts the result to `max`
 * characters, saying how much was cut. For the access log, which is written as it comes.
 *
 * @example
 * ```ts
 * import { escapeLine } from "./worker_lines.ts";
 * escapeLine("ok\nFORGED", 100); // "ok\\x0aFORGED"
 * ```
 */
export function escapeLine(text: string, max: number): string {
  if (text.length <= max && !UNSAFE.test(text)) return text;
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c <= 0x9f) && c !== 0x2028 && c !== 0x2029) {
      continue;
    }
    out += text.slice(from, i) +
      (c < 0x100 ? "\\x" + c.toString(16).padStart(2, "0") : "\\u" + c.toString(16));
    from = i + 1;
    if (out.length > max) break;
  }
  if (from < text.length && out.length <= max) out += text.slice(from);
  return capText(out, max);
}

/**
 * Cuts `text` to `max` characters, saying how much was cut. For server-log lines, which the log
 * escapes itself (its continuation lines are indented, so none passes for a record).
 *
 * @example
 * ```ts
 * import { capText } from "./worker_lines.ts";
 * capText("abcdef", 3); // "abc... (3+ more characters cut)"
 * ```
 */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... (${text.length - max}+ more characters cut)`;
}

/**
 * A token bucket in bytes: `rate` per second, up to `burst` at once.
 *
 * @example
 * ```ts
 * import { ByteRate } from "./worker_lines.ts";
 * const rate = new ByteRate(1000, 1000);
 * rate.take(800, 0); // true
 * rate.take(800, 0); // false: over the burst
 * rate.take(800, 1000); // true: a second later
 * ```
 */
export class ByteRate {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at = -Infinity;
  /** Lines refused since {@link ByteRate.takeDropped} was last called. */
  #dropped = 0;

  /** `rate` bytes a second, `burst` at most at once. */
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Takes `bytes` at `now` (ms); false (and counted as dropped) when over the rate. */
  take(bytes: number, now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(
        this.#burst,
        this.#tokens +
          (this.#at === -Infinity ? this.#burst : (now - this.#at) * this.#rate / 1000),
      );
      this.#at = now;
    }
    if (bytes > this.#tokens) {
      this.#dropped++;
      return false;
    }
    this.#tokens -= bytes;
    return true;
  }

  /** Lines dropped since the last call; resets the count. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }
}

/**
 * One worker's lines, checked: capped, access lines escaped (the server log escapes its own), and
 * within the rates (server log: 64 KiB a
 * second, 256 KiB at once; access log: 64 MiB a second, far above what one thread can serve,
 * so that only a forger is stopped).
 *
 * @example
 * ```ts
 * import { WorkerLineGate } from "./worker_lines.ts";
 * const gate = new WorkerLineGate();
 * gate.access("127.0.0.1 - - …\nFORGED", 0); // "127.0.0.1 - - …\\x0aFORGED"
 * ```
 */
export class WorkerLineGate {
  readonly #log = new ByteRate(64 * 1024, 256 * 1024);
  readonly #access = new ByteRate(64 * 1024 * 1024, 64 * 1024 * 1024);

  /** A server-log line fit to write, or `undefined` when over the rate. */
  log(text: string, now: number): string | undefined {
    return this.#log.take(text.length, now) ? capText(text, MAX_LOG_LINE) : undefined;
  }

  /** An access-log line fit to write, or `undefined` when over the rate. */
  access(line: string, now: number): string | undefined {
    return this.#access.take(line.length, now) ? escapeLine(line, MAX_ACCESS_LINE) : undefined;
  }

  /** Lines dropped since the last call. */
  takeDropped(): number {
    return this.#log.takeDropped() + this.#access.takeDropped();
  }
}
