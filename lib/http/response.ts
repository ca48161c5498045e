/**
 * The response head serialiser (RFC 9112 §4, §6): status line, the app's fields, and the
 * framing the server owns (Content-Length, chunked, close-delimited, keep-alive), with the
 * rules for HEAD, 204 and 304; and the interim heads the server sends on its own (`100
 * Continue`, `101 Switching Protocols`). No I/O: it writes the head's bytes into the caller's
 * buffer and says how the connection must follow it with the body.
 *
 * @module
 */

import { responseHasContent, statusHasContent, statusMayDeclareLength } from "./content.ts";
import { latin1Bytes, writeLatin1 } from "./latin1.ts";
import { statusLineBytes } from "./status.ts";

/** No body is written. */
export const BODY_NONE = 0;
/** Exactly `contentLength` bytes follow. */
export const BODY_LENGTH = 1;
/** The body is chunked. */
export const BODY_CHUNKED = 2;
/** The body runs until the connection closes (HTTP/1.0 streams). */
export const BODY_UNTIL_CLOSE = 3;

/** How the body of a response is framed. */
export type BodyMode =
  | typeof BODY_NONE
  | typeof BODY_LENGTH
  | typeof BODY_CHUNKED
  | typeof BODY_UNTIL_CLOSE;

/** What the connection knows about the request and itself when it answers. */
export interface ResponseContext {
  /** The request's minor HTTP version (0 or 1). */
  minor: number;
  /** The request method was HEAD. */
  head: boolean;
  /** The connection may stay open after this response, as far as the request and limits go. */
  keepAlive: boolean;
  /** The `Date` value to add unless the app set one. */
  date: string;
  /** The `Server` value to add unless the app set one (`""` for none). */
  server: string;
}

/** How to follow a head that {@link writeHead} wrote; the connection reuses one. */
export interface ResponseHead {
  /** Index in the output just past the head's blank line. */
  end: number;
  /** How the body is framed. */
  mode: BodyMode;
  /** Body length for {@link BODY_LENGTH}. */
  contentLength: number;
  /** The connection stays open after the body. */
  keepAlive: boolean;
}

/** Creates a {@link ResponseHead} to pass to {@link writeHead}. */
export function responseHead(): ResponseHead {
  return { end: 0, mode: BODY_NONE, contentLength: 0, keepAlive: false };
}

const OTHER = 0;
const CONTENT_LENGTH = 1;
const HOP_BY_HOP = 2;
const CONNECTION = 3;
const DATE = 4;
const SERVER = 5;

/** True when `name` equals the lower-case ASCII `lower`, ignoring case. */
function sameName(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Which of the fields the server owns `name` is; by length first, so most names cost one switch. */
function classify(name: string): number {
  switch (name.length) {
    case 4:
      return sameName(name, "date") ? DATE : OTHER;
    case 6:
      return sameName(name, "server") ? SERVER : OTHER;
    case 10:
      return sameName(name, "connection")
        ? CONNECTION
        : sameName(name, "keep-alive")
        ? HOP_BY_HOP
        : OTHER;
    case 14:
      return sameName(name, "content-length") ? CONTENT_LENGTH : OTHER;
    case 17:
      return sameName(name, "transfer-encoding") ? HOP_BY_HOP : OTHER;
  }
  return OTHER;
}

/** Room kept for the lines the server adds (Date, Content-Length, Connection, the blank line). */
const OWN_LINES = 128;

/** A field line whose value seldom changes, kept encoded for the last value asked for. */
class EncodedLine {
  readonly #name: string;
  #value: string | null = null;
  #bytes: Uint8Array = new Uint8Array(0);

  constructor(name: string) {
    this.#name = name;
  }

  /** `name: value` and CRLF, as bytes. */
  of(value: string): Uint8Array {
    if (value !== this.#value) {
      this.#bytes = latin1Bytes(this.#name + ": " + value + "\r\n");
      this.#value = value;
    }
    return this.#bytes;
  }
}

// Nearly always the same value: the second's `Date`, the one `Server`, and Deno's few default
// content types (text, JSON).
const dateLine = new EncodedLine("date");
const serverLine = new EncodedLine("server");
const typeLine = new EncodedLine("content-type");

/**
 * Writes a response head into `out` at `offset`: the status line, the app's fields (a `Headers`
 * object, or the `[name, value]` list the app set, in any letter case), then `contentType` when
 * given (Deno keeps a content type that came alone outside the list), and the framing the server
 * owns. Fields are byte strings, so each character is written as one byte.
 *
 * `bodyLength` is the body size when the connection holds the whole body, -1 for a stream of
 * unknown length, and -2 when the response has no body at all (`Response.body === null`).
 *
 * An interim head (1xx, RFC 9110 §15.2) is the status line and `fields` as given — a 101's
 * `Connection: upgrade` and `Upgrade` are its point — less any framing field, and nothing the
 * server would add to a final response: no framing, Date or Server.
 *
 * Fills `plan` and returns true, or returns false when `out` is too small (grow it and call
 * again).
 */
export function writeHead(
  out: Uint8Array,
  offset: number,
  status: number,
  fields: Iterable<[string, string]>,
  contentType: string | null,
  bodyLength: number,
  context: ResponseContext,
  plan: ResponseHead,
): boolean {
  const minor = context.minor;
  const line = statusLineBytes(minor, status);
  const limit = out.length - OWN_LINES - context.server.length;
  if (offset + line.length > limit) return false;
  out.set(line, offset);
  let o = offset + line.length;
  if (status < 200) return writeInterim(out, o, limit, fields, context, plan);
  let hasDate = false;
  let hasServer = false;
  let declaredLength = -1;
  let keepAlive = context.keepAlive;
  for (const [name, value] of fields) {
    switch (classify(name)) {
      case CONTENT_LENGTH:
        declaredLength = parseLength(value);
        continue;
      case HOP_BY_HOP:
        continue;
      case CONNECTION:
        if (value.toLowerCase().includes("close")) keepAlive = false;
        continue;
      case DATE:
        hasDate = true;
        break;
      case SERVER:
        hasServer = true;
        break;
    }
    if (o + name.length + value.length + 4 > limit) return false;
    o = writeField(out, o, name, value);
  }
  if (contentType !== null) {
    const line = typeLine.of(contentType);
    if (o + line.length > limit) return false;
    out.set(line, o);
    o += line.length;
  }
  if (!hasDate) {
    const line = dateLine.of(context.date);
    out.set(line, o);
    o += line.length;
  }
  if (!hasServer && context.server !== "") {
    const line = serverLine.of(context.server);
    out.set(line, o);
    o += line.length;
  }

  let mode: BodyMode = BODY_NONE;
  let contentLength = 0;
  let length = -1;
  if (!statusMayDeclareLength(status)) {
    // No body and no length (RFC 9110 §8.6).
  } else if (!statusHasContent(status)) {
    // A 304 may say the length the 200 would have had.
    length = declaredLength;
  } else if (bodyLength >= 0 || bodyLength === -2) {
    contentLength = bodyLength === -2 ? 0 : bodyLength;
    if (context.head && bodyLength === -2 && declaredLength >= 0) contentLength = declaredLength;
    length = contentLength;
    if (responseHasContent(status, context.head)) mode = BODY_LENGTH;
  } else if (declaredLength >= 0) {
    contentLength = length = declaredLength;
    if (responseHasContent(status, context.head)) mode = BODY_LENGTH;
  } else if (minor === 1) {
    o = writeLatin1(out, o, "transfer-encoding: chunked\r\n");
    if (responseHasContent(status, context.head)) mode = BODY_CHUNKED;
  } else if (responseHasContent(status, context.head)) {
    mode = BODY_UNTIL_CLOSE;
    keepAlive = false;
  }
  if (length >= 0) {
    o = writeLatin1(out, o, "content-length: ");
    o = writeDecimal(out, o, length);
    out[o++] = CR;
    out[o++] = LF;
  }
  if (!keepAlive) o = writeLatin1(out, o, "connection: close\r\n");
  else if (minor === 0) o = writeLatin1(out, o, "connection: keep-alive\r\n");
  out[o++] = CR;
  out[o++] = LF;
  plan.end = o;
  plan.mode = mode;
  plan.contentLength = contentLength;
  plan.keepAlive = keepAlive;
  return true;
}

const CR = 13;
const LF = 10;
const COLON = 58;
const SP = 32;

/** The rest of an interim head after its status line (see {@link writeHead}). */
function writeInterim(
  out: Uint8Array,
  o: number,
  limit: number,
  fields: Iterable<[string, string]>,
  context: ResponseContext,
  plan: ResponseHead,
): boolean {
  for (const [name, value] of fields) {
    // No framing in a 1xx (RFC 9110 §8.6, RFC 9112 §6.1).
    const kind = classify(name);
    if (kind === CONTENT_LENGTH || kind === HOP_BY_HOP) continue;
    if (o + name.length + value.length + 4 > limit) return false;
    o = writeField(out, o, name, value);
  }
  out[o++] = CR;
  out[o++] = LF;
  plan.end = o;
  plan.mode = BODY_NONE;
  plan.contentLength = 0;
  plan.keepAlive = context.keepAlive;
  return true;
}

function writeField(out: Uint8Array, o: number, name: string, value: string): number {
  o = writeLatin1(out, o, name);
  out[o++] = COLON;
  out[o++] = SP;
  o = writeLatin1(out, o, value);
  out[o++] = CR;
  out[o++] = LF;
  return o;
}

/** Writes a non-negative safe integer in decimal. */
function writeDecimal(out: Uint8Array, o: number, n: number): number {
  if (n < 10) {
    out[o] = 48 + n;
    return o + 1;
  }
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  for (let i = o + digits - 1; i >= o; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return o + digits;
}

function parseLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}
