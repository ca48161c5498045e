/**
 * The response head serialiser (RFC 9112 §4, §6): status line, the app's fields, and the
 * framing the server owns (Content-Length, chunked, close-delimited, keep-alive), with the
 * rules for HEAD, 1xx, 204 and 304. No I/O: it returns the head as a string and the plan the
 * connection follows to write the body.
 *
 * @module
 */

import { statusLine } from "./status.ts";

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

/** A serialised head and how to follow it. */
export interface ResponseHead {
  /** Status line and fields, ending with the blank line. */
  text: string;
  /** How the body is framed. */
  mode: BodyMode;
  /** Body length for {@link BODY_LENGTH}. */
  contentLength: number;
  /** The connection stays open after the body. */
  keepAlive: boolean;
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

/**
 * Serialises a response head from its fields — a `Headers` object, or the `[name, value]` list
 * the app set, in any letter case.
 *
 * `bodyLength` is the body size when the connection holds the whole body, -1 for a stream of
 * unknown length, and -2 when the response has no body at all (`Response.body === null`).
 */
export function serializeHead(
  status: number,
  fields: Iterable<[string, string]>,
  bodyLength: number,
  context: ResponseContext,
): ResponseHead {
  let text = statusLine(context.minor, status);
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
    text += name + ": " + value + "\r\n";
  }
  if (!hasDate) text += "date: " + context.date + "\r\n";
  if (!hasServer && context.server !== "") text += "server: " + context.server + "\r\n";

  let mode: BodyMode = BODY_NONE;
  let contentLength = 0;
  if (status < 200 || status === 204) {
    // These never carry a body or a length (RFC 9110 §8.6).
  } else if (status === 304) {
    if (declaredLength >= 0) text += "content-length: " + declaredLength + "\r\n";
  } else if (bodyLength >= 0 || bodyLength === -2) {
    contentLength = bodyLength === -2 ? 0 : bodyLength;
    if (context.head && bodyLength === -2 && declaredLength >= 0) contentLength = declaredLength;
    text += "content-length: " + contentLength + "\r\n";
    mode = context.head ? BODY_NONE : BODY_LENGTH;
  } else if (declaredLength >= 0) {
    contentLength = declaredLength;
    text += "content-length: " + contentLength + "\r\n";
    mode = context.head ? BODY_NONE : BODY_LENGTH;
  } else if (context.minor === 1) {
    text += "transfer-encoding: chunked\r\n";
    mode = context.head ? BODY_NONE : BODY_CHUNKED;
  } else if (!context.head) {
    mode = BODY_UNTIL_CLOSE;
    keepAlive = false;
  }

  if (!keepAlive) text += "connection: close\r\n";
  else if (context.minor === 0) text += "connection: keep-alive\r\n";
  return { text: text + "\r\n", mode, contentLength, keepAlive };
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
