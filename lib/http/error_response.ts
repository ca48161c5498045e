/**
 * The complete response the server sends on its own when a request is refused or the app
 * fails: a plain-text body and a Content-Length, so the client can read it whole before the
 * connection closes.
 *
 * @module
 */

import { reasonPhrase, statusLine } from "./status.ts";

/**
 * Serialises a server-made response. `detail` is appended to the reason phrase in the body.
 * The connection is closed after it unless `keepAlive` is set.
 */
export function errorResponse(
  status: number,
  detail: string,
  date: string,
  server: string,
  keepAlive = false,
  minor = 1,
): string {
  const body = reasonPhrase(status) + (detail === "" ? "" : ": " + detail) + "\n";
  return statusLine(minor, status) +
    "content-type: text/plain; charset=utf-8\r\n" +
    "content-length: " + body.length + "\r\n" +
    "date: " + date + "\r\n" +
    (server === "" ? "" : "server: " + server + "\r\n") +
    (keepAlive ? (minor === 0 ? "connection: keep-alive\r\n" : "") : "connection: close\r\n") +
    "\r\n" + body;
}
