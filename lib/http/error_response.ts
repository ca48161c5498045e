/**
 * The complete response the server sends on its own when a request is refused or the app
 * fails: a plain-text body and a Content-Length, so the client can read it whole before the
 * connection closes.
 *
 * @module
 */

import { latin1 } from "./latin1.ts";
import { reasonPhrase, statusLine } from "./status.ts";

const encoder = new TextEncoder();

/**
 * Serialises a server-made response. `detail` is appended to the reason phrase in the body.
 * The connection is closed after it unless `keepAlive` is set.
 *
 * The result is a byte string (one character per byte, as the connection writes heads): a
 * body with characters beyond ASCII — a stack trace naming a non-ASCII path, say — is in UTF-8,
 * as its `charset` says, and its Content-Length counts those bytes.
 */
export function errorResponse(
  status: number,
  detail: string,
  date: string,
  server: string,
  keepAlive = false,
  minor = 1,
): string {
  const body = utf8ByteString(reasonPhrase(status) + (detail === "" ? "" : ": " + detail) + "\n");
  return statusLine(minor, status) +
    "content-type: text/plain; charset=utf-8\r\n" +
    "content-length: " + body.length + "\r\n" +
    "date: " + date + "\r\n" +
    (server === "" ? "" : "server: " + server + "\r\n") +
    (keepAlive ? (minor === 0 ? "connection: keep-alive\r\n" : "") : "connection: close\r\n") +
    "\r\n" + body;
}

/** `text` as UTF-8, one character per byte; ASCII text is returned as it is. */
function utf8ByteString(text: string): string {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 0x80) i++;
  if (i === text.length) return text;
  const bytes = encoder.encode(text);
  let out = "";
  for (let at = 0; at < bytes.length; at += 4096) {
    out += latin1(bytes, at, Math.min(at + 4096, bytes.length));
  }
  return out;
}
