/**
 * Status lines, built once per status and version, with reason phrases from `node:http`.
 *
 * @module
 */

import { STATUS_CODES } from "node:http";

const cache: [string[], string[]] = [[], []];

/** The reason phrase for `status` (`""` for codes `node:http` does not know). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? "";
}

/** `HTTP/1.<minor> <status> <reason>\r\n`, memoised. */
export function statusLine(minor: number, status: number): string {
  const lines = cache[minor === 0 ? 0 : 1];
  return lines[status] ??= `HTTP/1.${minor === 0 ? 0 : 1} ${status} ${reasonPhrase(status)}\r\n`;
}
