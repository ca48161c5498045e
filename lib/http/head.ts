/**
 * The request head parser (RFC 9112 §2–§6): request line and header section, bytes in, a
 * {@link RequestHead} or a {@link ProtocolError} out. No I/O, no regular expressions, no string
 * splitting: one pass of byte scans over the buffer the connection already holds.
 *
 * @module
 */

import { ProtocolError } from "./error.ts";
import { FIELD_VALUE, HOST, latin1, lowerLatin1, TARGET, TOKEN } from "./field.ts";

/** Bounds on the request head; exceeding one is answered with 414 or 431. */
export interface HeadLimits {
  /** Longest request line, in bytes (414 beyond). */
  readonly maxRequestLine: number;
  /** Largest header section, request line included, in bytes (431 beyond). */
  readonly maxHeaderBytes: number;
  /** Most header fields (431 beyond). */
  readonly maxHeaderFields: number;
}

/** The limits the product promises: 8 KiB request line, 64 KiB head, 100 fields. */
export const DEFAULT_HEAD_LIMITS: HeadLimits = {
  maxRequestLine: 8 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxHeaderFields: 100,
};

/** A parsed request head with the framing facts the connection needs already extracted. */
export interface RequestHead {
  /** The method token, case preserved. */
  method: string;
  /** The raw request-target: origin-form, absolute-form or `*`. */
  target: string;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Field names, lower-cased, in arrival order (parallel to `values`). */
  names: string[];
  /** Field values, trimmed of surrounding whitespace. */
  values: string[];
  /** The Host field value, or `""` when absent (HTTP/1.0 only). */
  host: string;
  /** The declared body length, or -1 when there is no Content-Length. */
  contentLength: number;
  /** The body is chunked. */
  chunked: boolean;
  /** `Connection: close` was sent. */
  close: boolean;
  /** `Connection: keep-alive` was sent (what an HTTP/1.0 client needs to stay open). */
  keepAlive: boolean;
  /** `Connection: upgrade` was sent. */
  upgrade: boolean;
  /** `Expect: 100-continue` was sent (any case). */
  expectContinue: boolean;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const MAX_SAFE_DIGITS = 15;

/**
 * Finds the end of a request head in `buf[start, end)`, resuming the scan at `from`.
 * Returns the index just past the blank line, or -1 when the head is still incomplete.
 * A blank line made of a bare LF also ends the search, so the parser can reject it rather than
 * wait for a CRLF that never comes.
 */
export function findHeadEnd(buf: Uint8Array, start: number, from: number, end: number): number {
  let i = from < start + 1 ? start + 1 : from;
  while (i < end) {
    i = buf.indexOf(LF, i);
    if (i === -1 || i >= end) return -1;
    const p = buf[i - 1];
    if (p === LF || (p === CR && i - 2 >= start && buf[i - 2] === LF)) return i + 1;
    i++;
  }
  return -1;
}

/**
 * Checks a head that has no end yet against the limits, so an oversized head is refused as soon
 * as it is oversized instead of when it ends.
 */
export function checkPartialHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): ProtocolError | null {
  if (end - start > limits.maxRequestLine) {
    const lf = buf.indexOf(LF, start);
    if (lf === -1 || lf >= end || lf - start > limits.maxRequestLine + 1) {
      return new ProtocolError(414, "request line too long");
    }
  }
  if (end - start > limits.maxHeaderBytes) {
    return new ProtocolError(431, "request header section too large");
  }
  return null;
}

function methodName(buf: Uint8Array, s: number, e: number): string {
  const n = e - s;
  const c = buf[s];
  if (n === 3 && c === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return "GET";
  if (n === 4 && c === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) {
    return "POST";
  }
  if (n === 4 && c === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) {
    return "HEAD";
  }
  return latin1(buf, s, e);
}

function asciiLowerEquals(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses a Content-Length value: 1*DIGIT, or a list of identical such values. */
function parseContentLength(value: string): number {
  let result = -1;
  let i = 0;
  const n = value.length;
  while (i < n) {
    let digits = 0;
    let v = 0;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > MAX_SAFE_DIGITS) return -2;
    if (result !== -1 && v !== result) return -2;
    result = v;
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HT)) i++;
    if (i === n) break;
    if (value.charCodeAt(i) !== 44) return -2;
    i++;
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HT)) i++;
  }
  return result;
}

/** Calls `each` with every comma-separated element of a list value, trimmed and lower-cased. */
function forEachListElement(value: string, each: (element: string) => void): void {
  let i = 0;
  const n = value.length;
  while (i <= n) {
    let j = value.indexOf(",", i);
    if (j === -1) j = n;
    let s = i;
    let e = j;
    while (s < e && (value.charCodeAt(s) === SP || value.charCodeAt(s) === HT)) s++;
    while (e > s && (value.charCodeAt(e - 1) === SP || value.charCodeAt(e - 1) === HT)) e--;
    if (e > s) each(value.slice(s, e).toLowerCase());
    i = j + 1;
  }
}

/**
 * Parses the complete head `buf[start, headEnd)` (as found by {@link findHeadEnd}).
 * Returns the head, or the protocol error to answer with.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): RequestHead | ProtocolError {
  if (headEnd - start > limits.maxHeaderBytes) {
    return new ProtocolError(431, "request header section too large");
  }
  let p = start;
  while (TOKEN[buf[p]] === 1) p++;
  if (p === start || buf[p] !== SP) return new ProtocolError(400, "malformed request line");
  const method = methodName(buf, start, p);
  const targetStart = ++p;
  while (TARGET[buf[p]] === 1) p++;
  if (p === targetStart || buf[p] !== SP) {
    return new ProtocolError(400, "malformed request target");
  }
  const targetEnd = p++;
  if (
    buf[p] !== 72 || buf[p + 1] !== 84 || buf[p + 2] !== 84 || buf[p + 3] !== 80 ||
    buf[p + 4] !== 47 || buf[p + 6] !== 46
  ) {
    return new ProtocolError(400, "malformed HTTP version");
  }
  const major = buf[p + 5] - 48;
  const minorDigit = buf[p + 7] - 48;
  if (major < 0 || major > 9 || minorDigit < 0 || minorDigit > 9) {
    return new ProtocolError(400, "malformed HTTP version");
  }
  p += 8;
  if (buf[p] !== CR || buf[p + 1] !== LF) {
    return new ProtocolError(
      400,
      buf[p] === LF ? "bare LF in request line" : "malformed request line",
    );
  }
  if (p - start > limits.maxRequestLine) return new ProtocolError(414, "request line too long");
  if (major !== 1 || minorDigit > 1) {
    return new ProtocolError(505, "HTTP version not supported");
  }
  p += 2;

  const target = latin1(buf, targetStart, targetEnd);
  const t0 = buf[targetStart];
  if (t0 !== 47) {
    if (t0 === 42 && targetEnd - targetStart === 1) {
      if (method !== "OPTIONS") return new ProtocolError(400, "asterisk-form is only for OPTIONS");
    } else if (method === "CONNECT") {
      return new ProtocolError(501, "CONNECT is not supported");
    } else if (!isAbsoluteHttpUrl(target)) {
      return new ProtocolError(400, "malformed request target");
    }
  }

  const names: string[] = [];
  const values: string[] = [];
  let host = "";
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let close = false;
  let keepAlive = false;
  let upgrade = false;
  let expectContinue = false;

  for (;;) {
    const c = buf[p];
    if (c === CR) {
      if (buf[p + 1] !== LF) return new ProtocolError(400, "bare CR in header section");
      break;
    }
    if (c === LF) return new ProtocolError(400, "bare LF in header section");
    if (c === SP || c === HT) return new ProtocolError(400, "obsolete line folding");
    const nameStart = p;
    while (TOKEN[buf[p]] === 1) p++;
    if (p === nameStart || buf[p] !== 58) {
      return new ProtocolError(400, "invalid header field name");
    }
    const name = lowerLatin1(buf, nameStart, p);
    p++;
    while (buf[p] === SP || buf[p] === HT) p++;
    const valueStart = p;
    while (FIELD_VALUE[buf[p]] === 1) p++;
    if (buf[p] !== CR) {
      return new ProtocolError(
        400,
        buf[p] === LF ? "bare LF in header section" : "invalid character in header field value",
      );
    }
    if (buf[p + 1] !== LF) return new ProtocolError(400, "bare CR in header section");
    let valueEnd = p;
    p += 2;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) {
      valueEnd--;
    }
    if (names.length === limits.maxHeaderFields) {
      return new ProtocolError(431, "too many header fields");
    }
    const value = latin1(buf, valueStart, valueEnd);
    names.push(name);
    values.push(value);
    switch (name) {
      case "host":
        for (let i = valueStart; i < valueEnd; i++) {
          if (HOST[buf[i]] !== 1) return new ProtocolError(400, "invalid Host");
        }
        host = value;
        hosts++;
        break;
      case "content-length": {
        const n = parseContentLength(value);
        if (n < 0 || (contentLength !== -1 && n !== contentLength)) {
          return new ProtocolError(400, "invalid Content-Length");
        }
        contentLength = n;
        break;
      }
      case "transfer-encoding":
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
      case "connection":
        forEachListElement(value, (token) => {
          if (token === "close") close = true;
          else if (token === "keep-alive") keepAlive = true;
          else if (token === "upgrade") upgrade = true;
        });
        break;
      case "expect":
        if (!asciiLowerEquals(value, "100-continue")) {
          return new ProtocolError(417, "unsupported expectation");
        }
        expectContinue = true;
        break;
    }
  }

  if (hosts > 1 || (minorDigit === 1 && hosts === 0)) {
    return new ProtocolError(400, hosts === 0 ? "missing Host" : "more than one Host");
  }
  let chunked = false;
  if (transferEncoding !== undefined) {
    if (contentLength !== -1) {
      return new ProtocolError(400, "both Transfer-Encoding and Content-Length");
    }
    if (minorDigit === 0) return new ProtocolError(400, "Transfer-Encoding in HTTP/1.0");
    let codings = 0;
    let unknown = false;
    let last = "";
    forEachListElement(transferEncoding, (coding) => {
      codings++;
      last = coding;
      if (coding !== "chunked") unknown = true;
    });
    if (unknown) return new ProtocolError(501, "unsupported transfer coding");
    if (codings !== 1 || last !== "chunked") {
      return new ProtocolError(400, "invalid Transfer-Encoding");
    }
    chunked = true;
  }
  return {
    method,
    target,
    minor: minorDigit,
    names,
    values,
    host,
    contentLength,
    chunked,
    close,
    keepAlive,
    upgrade,
    expectContinue,
  };
}

function isAbsoluteHttpUrl(target: string): boolean {
  const colon = target.indexOf("://");
  if (colon !== 4 && colon !== 5) return false;
  const scheme = target.slice(0, colon).toLowerCase();
  return (scheme === "http" || scheme === "https") && target.length > colon + 3;
}
