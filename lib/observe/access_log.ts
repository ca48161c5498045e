/**
 * The access log line: Apache's combined format.
 *
 * @module
 */

import type { AccessEntry } from "../engine/connection.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** `[10/Oct/2000:13:55:36 +0000]`, in UTC. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${
    two(d.getUTCHours())
  }:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

/** Escapes quotes and control bytes the way Apache does, so a line cannot be forged. */
function quoted(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 || c === 92) out += "\\" + value[i];
    else if (c < 32 || c === 127) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += value[i];
  }
  return out;
}

/**
 * Formats one entry: `host - - [time] "request" status bytes "referer" "user-agent"`.
 *
 * @example
 * ```ts ignore
 * formatAccessLine(entry); // 127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.0"
 * ```
 */
export function formatAccessLine(entry: AccessEntry): string {
  return `${entry.remote} - - ${clfTime(entry.time)} "${
    quoted(entry.requestLine)
  }" ${entry.status} ${entry.bytes === 0 ? "-" : entry.bytes} "${quoted(entry.referer)}" "${
    quoted(entry.userAgent)
  }"`;
}
