/**
 * The `Date` header value (RFC 9110 §6.6.1), formatted at most once per second.
 *
 * @module
 */

let cached = "";
let validUntil = 0;

/** The current time as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(now: number = Date.now()): string {
  if (now >= validUntil || now < validUntil - 1000) {
    cached = new Date(now).toUTCString();
    validUntil = now - (now % 1000) + 1000;
  }
  return cached;
}
