/**
 * The authority of a request: a `Host` value, or the authority of an absolute-form target, must
 * be `uri-host [":" port]` (RFC 9112 §3.2, RFC 9110 §4.2.1, §7.2, RFC 3986 §3.2.2). One that is
 * not would reach the app as a `request.url` that `new URL()` rejects, so every app that parses
 * its URL would answer 500, with a stack trace in the log, to any client that asks.
 *
 * The grammar is checked here byte by byte. The few hosts that pass it but that the WHATWG URL
 * parser (which `new URL()` is) may still refuse — percent-encoded names, names ending in a
 * number that are not a plain dotted quad, IDNA `xn--` labels — are also given to
 * `URL.canParse`, so a host accepted here is always one the app can parse.
 *
 * @module
 */

const COLON = 58;
const DOT = 46;
const PERCENT = 37;
const OPEN = 91;

/** 1 where a byte may appear in a reg-name as itself: unreserved and sub-delims (RFC 3986). */
const REG_NAME = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) REG_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) REG_NAME[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) REG_NAME[c] = 1;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Whether `text` is a valid Host field value: `uri-host [":" port]`, a port being at most
 * 65535, or empty (RFC 9112 §3.2 allows an empty Host; the server's own address is used).
 * An IP literal must be an IPv6 address: IPvFuture and zone identifiers have no URL form.
 *
 * @example
 * ```ts
 * import { validHost } from "./authority.ts";
 * validHost("example.com:8080"); // true
 * validHost("x:abc"); // false: the port is not a number
 * validHost("[::1"); // false
 * ```
 */
export function validHost(text: string): boolean {
  return text.length === 0 || validAuthority(text, 0, text.length);
}

/**
 * Whether `text[start, end)` is `uri-host [":" port]` with a non-empty host.
 *
 * @example
 * ```ts
 * import { validAuthority } from "./authority.ts";
 * validAuthority("a:1:2", 0, 5); // false
 * ```
 */
export function validAuthority(text: string, start: number, end: number): boolean {
  let hostEnd: number;
  if (text.charCodeAt(start) === OPEN) {
    const close = text.indexOf("]", start);
    if (close === -1 || close >= end || !validIpv6(text, start + 1, close)) return false;
    hostEnd = close + 1;
    if (hostEnd < end && text.charCodeAt(hostEnd) !== COLON) return false;
  } else {
    hostEnd = start;
    while (hostEnd < end && text.charCodeAt(hostEnd) !== COLON) hostEnd++;
    if (hostEnd === start || !validRegName(text, start, hostEnd)) return false;
  }
  return hostEnd === end || validPort(text, hostEnd + 1, end);
}

/** `*DIGIT` (RFC 3986), at most 65535: a larger port has no URL form. */
function validPort(text: string, start: number, end: number): boolean {
  let port = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return false;
    port = port * 10 + c - 48;
    if (port > 65535) return false;
  }
  return true;
}

/** A reg-name or IPv4address (RFC 3986), that the URL parser also takes. */
function validRegName(text: string, start: number, end: number): boolean {
  let unusual = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === PERCENT) {
      if (i + 2 >= end || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) {
        return false;
      }
      unusual = true;
      i += 2;
    } else if (c >= 128 || REG_NAME[c] !== 1) {
      return false;
    }
  }
  // The URL parser reads a name whose last label is a number as an IPv4 address, and decodes
  // percent-escapes and IDNA labels; rare enough to ask it.
  let last = end;
  if (text.charCodeAt(last - 1) === DOT) last--;
  let labelStart = text.lastIndexOf(".", last - 1) + 1;
  if (labelStart < start) labelStart = start;
  const endsInNumber = labelStart < last && isDigit(text.charCodeAt(labelStart));
  if (endsInNumber && !dottedQuad(text, start, end)) unusual = true;
  if (!unusual && !text.slice(start, end).toLowerCase().includes("xn--")) return true;
  return URL.canParse("http://" + text.slice(start, end) + "/");
}

/** Four decimal parts of one to three digits, each at most 255: the common IPv4 form. */
function dottedQuad(text: string, start: number, end: number): boolean {
  let parts = 0;
  let i = start;
  while (i < end) {
    let value = 0;
    let digits = 0;
    while (i < end && isDigit(text.charCodeAt(i))) {
      value = value * 10 + text.charCodeAt(i) - 48;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || value > 255) return false;
    parts++;
    if (i === end) break;
    if (text.charCodeAt(i) !== DOT) return false;
    i++;
    if (i === end) return false;
  }
  return parts === 4;
}

/** IPv6address (RFC 3986 §3.2.2): eight 16-bit groups, one `::`, an IPv4 tail allowed. */
function validIpv6(text: string, start: number, end: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === end) return true;
  }
  while (i < end) {
    const groupStart = i;
    while (i < end && isHex(text.charCodeAt(i))) i++;
    const length = i - groupStart;
    if (i < end && text.charCodeAt(i) === DOT) {
      // The last 32 bits as a dotted quad.
      if (!dottedQuad(text, groupStart, end)) return false;
      groups += 2;
      i = end;
      break;
    }
    if (length === 0 || length > 4) return false;
    groups++;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (text.charCodeAt(i) === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  return compressed ? groups < 8 : groups === 8;
}

/**
 * Where the authority of an absolute-form `http` or `https` target starts and ends, as
 * `[start, end]`, or null when `target` is not one. The authority ends at the first `/`, `?`
 * or `#`.
 *
 * @example
 * ```ts
 * import { absoluteAuthority } from "./authority.ts";
 * absoluteAuthority("http://example.com/x"); // [7, 18]
 * absoluteAuthority("/x"); // null
 * ```
 */
export function absoluteAuthority(target: string): [number, number] | null {
  const colon = target.indexOf("://");
  if (colon !== 4 && colon !== 5) return null;
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return null;
  const start = colon + 3;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break;
    end++;
  }
  return [start, end];
}

/**
 * Whether an absolute-form target is an `http` or `https` URI whose authority is a non-empty
 * `uri-host [":" port]` without userinfo (RFC 9110 §4.2.1: an empty host is invalid; §4.2.4: a
 * recipient treats userinfo as an error).
 *
 * @example
 * ```ts
 * import { validAbsoluteTarget } from "./authority.ts";
 * validAbsoluteTarget("http://example.com/a?b"); // true
 * validAbsoluteTarget("http:///x"); // false: no host
 * ```
 */
export function validAbsoluteTarget(target: string): boolean {
  const authority = absoluteAuthority(target);
  if (authority === null) return false;
  const [start, end] = authority;
  return start < end && validAuthority(target, start, end);
}
