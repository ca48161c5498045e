/**
 * The request head parser (RFC 9112 §2–§6): request line and header section, bytes in, a
 * {@link RequestHead} or a {@link ProtocolError} out. No I/O, no regular expressions, no string
 * splitting: one pass of byte scans over the buffer the connection already holds, which also
 * finds where the head ends, so a complete head is never scanned twice.
 *
 * @module
 */

import { validAbsoluteTarget, validHost } from "./authority.ts";
import { ProtocolError } from "./error.ts";
import { bytesEqualLower, fieldName } from "./field_names.ts";
import { latin1 } from "./latin1.ts";
import { FIELD_VALUE, HOST, TARGET, TOKEN } from "./syntax.ts";

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
  /** Bytes of the head, blank line included: the body or the next request starts after them. */
  size: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COMMA = 44;
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
 * Checks a head that has no end yet, so a head that is already oversized (414, 431) or cannot
 * become a request line (400) is refused now instead of when it ends.
 */
export function checkPartialHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): ProtocolError | null {
  if (!requestLinePrefixValid(buf, start, end)) {
    return new ProtocolError(400, "malformed request line");
  }
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

/** `HTTP/d.d` CR LF, with -1 for a digit. */
const VERSION_PATTERN = [72, 84, 84, 80, 47, -1, 46, -1, CR, LF];

/**
 * Whether `buf[start, end)` can still become a valid request line: a token, SP, a target, SP,
 * `HTTP/d.d`, CRLF. Bytes that never can (a TLS handshake on a plain port, binary noise) are
 * refused at once instead of being held until the header timeout. Checks a subset of what
 * `parseHead` checks, so a head refused here would be refused with the same status once
 * complete.
 */
function requestLinePrefixValid(buf: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end && TOKEN[buf[p]] === 1) p++;
  if (p === end) return true;
  if (p === start || buf[p] !== SP) return false;
  const targetStart = ++p;
  while (p < end && TARGET[buf[p]] === 1) p++;
  if (p === end) return true;
  if (p === targetStart || buf[p] !== SP) return false;
  p++;
  for (let i = 0; i < VERSION_PATTERN.length && p < end; i++, p++) {
    const want = VERSION_PATTERN[i];
    const c = buf[p];
    if (want === -1 ? c < 48 || c > 57 : c !== want) return false;
  }
  return true;
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
    if (value.charCodeAt(i) !== COMMA) return -2;
    i++;
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HT)) i++;
    // A trailing comma is not a length: refuse it rather than guess, as a proxy might not.
    if (i === n) return -2;
  }
  return result;
}

const CONNECTION_CLOSE = 1;
const CONNECTION_KEEP_ALIVE = 2;
const CONNECTION_UPGRADE = 4;

/** The connection options of a `Connection` value `buf[s, e)`, as CONNECTION_* bits. */
function connectionOptions(buf: Uint8Array, s: number, e: number): number {
  let flags = 0;
  let i = s;
  while (i < e) {
    const c = buf[i];
    if (c === COMMA || c === SP || c === HT) {
      i++;
      continue;
    }
    const t = i;
    while (i < e && buf[i] !== COMMA) i++;
    let te = i;
    while (buf[te - 1] === SP || buf[te - 1] === HT) te--;
    if (bytesEqualLower(buf, t, te, "close")) flags |= CONNECTION_CLOSE;
    else if (bytesEqualLower(buf, t, te, "keep-alive")) flags |= CONNECTION_KEEP_ALIVE;
    else if (bytesEqualLower(buf, t, te, "upgrade")) flags |= CONNECTION_UPGRADE;
  }
  return flags;
}

/** What the Transfer-Encoding fields said, accumulated over all of them. */
interface Codings {
  /** Elements seen. */
  count: number;
  /** An element other than `chunked` was seen. */
  unknown: boolean;
  /** The last element seen was `chunked`. */
  lastChunked: boolean;
}

/** Adds the codings of a Transfer-Encoding value `buf[s, e)` to `codings`. */
function addCodings(buf: Uint8Array, s: number, e: number, codings: Codings): void {
  let i = s;
  while (i < e) {
    const c = buf[i];
    if (c === COMMA || c === SP || c === HT) {
      i++;
      continue;
    }
    const t = i;
    while (i < e && buf[i] !== COMMA) i++;
    let te = i;
    while (buf[te - 1] === SP || buf[te - 1] === HT) te--;
    codings.count++;
    codings.lastChunked = bytesEqualLower(buf, t, te, "chunked");
    if (!codings.lastChunked) codings.unknown = true;
  }
}

/**
 * Parses the request head that starts at `buf[start]`, from the bytes received so far,
 * `buf[start, end)`. Returns the head (its `size` says where it ended), the protocol error to
 * answer with, or null while the head is still incomplete.
 *
 * Every scan stops at a byte that cannot continue a head, so none needs a bounds check: when the
 * array is longer than `end`, the byte at `buf[end]` (past the data) is set to 0 as the stop.
 * The caller must not have a read in flight into that byte; it can pass `buf.subarray(0, end)`
 * instead.
 *
 * `previous` is the last head parsed on the same connection, if any: a client sends much the
 * same fields with every request, so a target or field value whose bytes equal the previous
 * one's is taken from it instead of being decoded into a new string.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  previous: RequestHead | null = null,
): RequestHead | ProtocolError | null {
  if (end < buf.length) buf[end] = 0;
  const head = parseFields(buf, start, limits, previous ?? NO_HEAD);
  if (head instanceof ProtocolError && findHeadEnd(buf, start, start, end) === -1) {
    // It stopped at the end of the data, or at a fault that must wait for the head to end
    // before it is answered (as if the whole head had come at once).
    return null;
  }
  return head;
}

/** The `previous` of a first request: nothing to reuse. */
const NO_HEAD: RequestHead = {
  method: "",
  target: "",
  minor: 1,
  names: [],
  values: [],
  host: "",
  contentLength: -1,
  chunked: false,
  close: false,
  keepAlive: false,
  upgrade: false,
  expectContinue: false,
  size: 0,
};

/** Whether `buf[s, e)` holds the latin-1 characters of `text`. */
function sameText(buf: Uint8Array, s: number, e: number, text: string): boolean {
  if (e - s !== text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (buf[s + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function parseFields(
  buf: Uint8Array,
  start: number,
  limits: HeadLimits,
  previous: RequestHead,
): RequestHead | ProtocolError {
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
  const minor = minorDigit;
  p += 2;

  const target = sameText(buf, targetStart, targetEnd, previous.target)
    ? previous.target
    : latin1(buf, targetStart, targetEnd);
  const t0 = buf[targetStart];
  if (t0 !== 47) {
    if (t0 === 42 && targetEnd - targetStart === 1) {
      if (method !== "OPTIONS") {
        return new ProtocolError(400, "asterisk-form is only for OPTIONS", minor);
      }
    } else if (method === "CONNECT") {
      return new ProtocolError(501, "CONNECT is not supported", minor);
    } else if (!validAbsoluteTarget(target)) {
      return new ProtocolError(400, "malformed request target", minor);
    }
  }

  const names: string[] = [];
  const values: string[] = [];
  let host = "";
  let hosts = 0;
  let contentLength = -1;
  let codings: Codings | undefined;
  let connection = 0;
  let expectContinue = false;

  for (;;) {
    const c = buf[p];
    if (c === CR) {
      if (buf[p + 1] !== LF) return new ProtocolError(400, "bare CR in header section", minor);
      break;
    }
    if (c === LF) return new ProtocolError(400, "bare LF in header section", minor);
    if (c === SP || c === HT) return new ProtocolError(400, "obsolete line folding", minor);
    const nameStart = p;
    while (TOKEN[buf[p]] === 1) p++;
    if (p === nameStart || buf[p] !== 58) {
      return new ProtocolError(400, "invalid header field name", minor);
    }
    const name = fieldName(buf, nameStart, p);
    p++;
    while (buf[p] === SP || buf[p] === HT) p++;
    const valueStart = p;
    while (FIELD_VALUE[buf[p]] === 1) p++;
    if (buf[p] !== CR) {
      return new ProtocolError(
        400,
        buf[p] === LF ? "bare LF in header section" : "invalid character in header field value",
        minor,
      );
    }
    if (buf[p + 1] !== LF) return new ProtocolError(400, "bare CR in header section", minor);
    let valueEnd = p;
    p += 2;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) {
      valueEnd--;
    }
    if (names.length === limits.maxHeaderFields) {
      return new ProtocolError(431, "too many header fields", minor);
    }
    const index = names.length;
    const value = index < previous.names.length && previous.names[index] === name &&
        sameText(buf, valueStart, valueEnd, previous.values[index])
      ? previous.values[index]
      : latin1(buf, valueStart, valueEnd);
    names.push(name);
    values.push(value);
    switch (name) {
      case "host":
        // A connection's clients send the same Host every time: checked once.
        if (value !== previous.host) {
          for (let i = valueStart; i < valueEnd; i++) {
            if (HOST[buf[i]] !== 1) return new ProtocolError(400, "invalid Host", minor);
          }
          if (!validHost(value)) return new ProtocolError(400, "invalid Host", minor);
        }
        host = value;
        hosts++;
        break;
      case "content-length": {
        const n = parseContentLength(value);
        if (n < 0 || (contentLength !== -1 && n !== contentLength)) {
          return new ProtocolError(400, "invalid Content-Length", minor);
        }
        contentLength = n;
        break;
      }
      case "transfer-encoding":
        codings ??= { count: 0, unknown: false, lastChunked: false };
        addCodings(buf, valueStart, valueEnd, codings);
        break;
      case "connection":
        connection |= connectionOptions(buf, valueStart, valueEnd);
        break;
      case "expect":
        if (!bytesEqualLower(buf, valueStart, valueEnd, "100-continue")) {
          return new ProtocolError(417, "unsupported expectation", minor);
        }
        expectContinue = true;
        break;
    }
  }

  const size = p + 2 - start;
  if (size > limits.maxHeaderBytes) {
    return new ProtocolError(431, "request header section too large", minor);
  }
  if (hosts > 1 || (minor === 1 && hosts === 0)) {
    return new ProtocolError(400, hosts === 0 ? "missing Host" : "more than one Host", minor);
  }
  let chunked = false;
  if (codings !== undefined) {
    if (contentLength !== -1) {
      return new ProtocolError(400, "both Transfer-Encoding and Content-Length", minor);
    }
    if (minor === 0) return new ProtocolError(400, "Transfer-Encoding in HTTP/1.0", minor);
    // Without chunked last the body has no knowable end (RFC 9112 §6.3): 400 and close, before
    // the 501 for a coding this server does not know (§6.1).
    if (!codings.lastChunked) {
      return new ProtocolError(400, "chunked is not the final transfer coding", minor);
    }
    if (codings.unknown) return new ProtocolError(501, "unsupported transfer coding", minor);
    if (codings.count !== 1) return new ProtocolError(400, "invalid Transfer-Encoding", minor);
    chunked = true;
  }
  return {
    method,
    target,
    minor,
    names,
    values,
    host,
    contentLength,
    chunked,
    close: (connection & CONNECTION_CLOSE) !== 0,
    keepAlive: (connection & CONNECTION_KEEP_ALIVE) !== 0,
    upgrade: (connection & CONNECTION_UPGRADE) !== 0,
    expectContinue,
    size,
  };
}
