/**
 * The access log line: Apache's combined format, built from an entry's fields one by one.
 *
 * Every text field is escaped as Apache does (`\"`, `\\`, and `\xhh` for control bytes and every
 * byte from 0x7F up), so a line is printable ASCII whatever a client sends: no newline, no
 * U+0085 or U+2028 that a log parser would take for one, no terminal escape. Numbers that are
 * not what they should be are written `-`. The function takes any object, so the supervisor
 * can format what a worker, where app code runs, posts it, without trusting it.
 *
 * @module
 */

import type { AccessEntry } from "../engine/connection.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HEX = "0123456789abcdef";
const utf8 = new TextEncoder();

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** `[10/Oct/2000:13:55:36 +0000]`, in UTC; `[-]` for a time that is not one. */
function clfTime(ms: unknown): string {
  const d = new Date(typeof ms === "number" ? ms : NaN);
  if (Number.isNaN(d.getTime())) return "[-]";
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${
    two(d.getUTCHours())
  }:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

function hexByte(byte: number): string {
  return "\\x" + HEX[byte >> 4] + HEX[byte & 15];
}

/**
 * `value` as printable ASCII: quotes and backslashes escaped with a backslash, control bytes
 * and bytes from 0x7F up as `\xhh`. Header values reach the engine as latin-1 (one character per
 * byte); a character above U+00FF, which no byte gives, is escaped byte by byte as UTF-8.
 *
 * @example
 * ```ts
 * import { escapeLogField } from "./access_log.ts";
 * escapeLogField('a"b\n\x85'); // 'a\\"b\\x0a\\x85'
 * ```
 */
export function escapeLogField(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  let out = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c < 127 && c !== 34 && c !== 92) continue;
    out += text.slice(start, i);
    start = i + 1;
    if (c === 34 || c === 92) out += "\\" + text[i];
    else if (c <= 0xff) out += hexByte(c);
    else {
      const point = text.codePointAt(i)!;
      if (point > 0xffff) start = ++i + 1;
      for (const byte of utf8.encode(String.fromCodePoint(point))) out += hexByte(byte);
    }
  }
  return out + text.slice(start);
}

/** A count as the log writes it: a non-negative integer, else `-`. */
function count(value: unknown): string {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
    ? String(value)
    : "-";
}

/**
 * Formats one entry: `host - - [time] "request" status bytes "referer" "user-agent"`.
 *
 * @example
 * ```ts
 * import { formatAccessLine } from "./access_log.ts";
 * formatAccessLine({
 *   remote: "127.0.0.1",
 *   requestLine: "GET / HTTP/1.1",
 *   status: 200,
 *   bytes: 5,
 *   referer: "-",
 *   userAgent: "curl/8.0",
 *   time: Date.UTC(2026, 10, 21, 10),
 * }); // '127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.0"'
 * ```
 */
export function formatAccessLine(entry: Readonly<AccessEntry>): string {
  const bytes = entry.bytes === 0 ? "-" : count(entry.bytes);
  return `${escapeLogField(entry.remote)} - - ${clfTime(entry.time)} "${
    escapeLogField(entry.requestLine)
  }" ${count(entry.status)} ${bytes} "${escapeLogField(entry.referer)}" "${
    escapeLogField(entry.userAgent)
  }"`;
}
