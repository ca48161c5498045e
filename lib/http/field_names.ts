/**
 * Field names as the request parser returns them: lower-cased, and the common ones as constants
 * rather than strings built for every request.
 *
 * @module
 */

import { lowerLatin1 } from "./latin1.ts";

/** Field names common enough to be worth returning as constants instead of building. */
const COMMON_NAMES = [
  "accept",
  "accept-encoding",
  "accept-language",
  "authorization",
  "cache-control",
  "connection",
  "content-length",
  "content-type",
  "cookie",
  "expect",
  "host",
  "if-modified-since",
  "if-none-match",
  "origin",
  "priority",
  "range",
  "referer",
  "sec-fetch-dest",
  "sec-fetch-mode",
  "sec-fetch-site",
  "sec-websocket-extensions",
  "sec-websocket-key",
  "sec-websocket-protocol",
  "sec-websocket-version",
  "te",
  "transfer-encoding",
  "upgrade",
  "upgrade-insecure-requests",
  "user-agent",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-real-ip",
  "x-request-id",
];
/** COMMON_NAMES by length, then by first letter. */
const NAMES_BY_LENGTH: (string[] | undefined)[] = [];
for (const name of COMMON_NAMES) (NAMES_BY_LENGTH[name.length] ??= []).push(name);

/**
 * The lower-cased field name `buf[s, e)` (a token), without building common ones.
 *
 * @example
 * ```ts
 * import { fieldName } from "./field_names.ts";
 * fieldName(new TextEncoder().encode("Content-Type"), 0, 12); // "content-type"
 * ```
 */
export function fieldName(buf: Uint8Array, s: number, e: number): string {
  const candidates = NAMES_BY_LENGTH[e - s];
  if (candidates !== undefined) {
    const first = buf[s] | 0x20;
    for (let i = 0; i < candidates.length; i++) {
      const name = candidates[i];
      if (name.charCodeAt(0) === first && bytesEqualLower(buf, s, e, name)) return name;
    }
  }
  return lowerLatin1(buf, s, e);
}

/**
 * Whether `buf[s, e)` equals `lower` (lower-case letters, digits, `-`) ignoring ASCII case.
 *
 * @example
 * ```ts
 * import { bytesEqualLower } from "./field_names.ts";
 * bytesEqualLower(new TextEncoder().encode("Close"), 0, 5, "close"); // true
 * ```
 */
export function bytesEqualLower(buf: Uint8Array, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  // Tokens and field values hold no CR or control bytes, so `| 0x20` only folds A-Z onto a-z
  // here (`lower` holds only a-z, 0-9 and `-`).
  for (let i = 0; i < lower.length; i++) {
    if ((buf[s + i] | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
