/**
 * Where a request starts and how long its body is (RFC 9112 §2.2, §6.3), the size limit on a
 * declared body (RFC 9110 §15.5.14), and when to send `100 Continue` (RFC 9110 §10.1.1).
 *
 * @module
 */

import { ProtocolError } from "./error.ts";
import type { RequestHead } from "./head.ts";

const CR = 13;
const LF = 10;

/**
 * Skips the empty lines a client may send before a request line (RFC 9112 §2.2: a server SHOULD
 * ignore at least one; some clients send a CRLF after a POST body). Returns the index of the
 * first other byte in `buf[start, end)`, or `end`. How long a client may go on sending only
 * empty lines is the connection's business: its wait for a request bounds them.
 *
 * @example
 * ```ts
 * import { skipEmptyLines } from "./request_framing.ts";
 * const bytes = new TextEncoder().encode("\r\n\r\nGET / HTTP/1.1");
 * skipEmptyLines(bytes, 0, bytes.length); // 4
 * ```
 */
export function skipEmptyLines(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
  return start;
}

/** The body is chunked: its length is known at its end. */
export const CHUNKED_BODY: number = -1;

/**
 * The length of the request body `head` announces (RFC 9112 §6.3): {@link CHUNKED_BODY} for
 * chunked, the Content-Length, or 0 when there is neither (a request without either has no
 * body, rule 6). A declared length above `maxBody` (`Infinity` for no limit) is refused with 413
 * before any of it is read (RFC 9110 §15.5.14); a chunked body is held to the same limit as it
 * is decoded.
 *
 * @example
 * ```ts ignore
 * import { requestBodyLength } from "./request_framing.ts";
 * requestBodyLength(head, 64 * 1024 * 1024); // 26 for `Content-Length: 26`
 * ```
 */
export function requestBodyLength(head: RequestHead, maxBody: number): number | ProtocolError {
  if (head.chunked) return CHUNKED_BODY;
  if (head.contentLength <= 0) return 0;
  if (head.contentLength > maxBody) {
    return new ProtocolError(413, "request body too large", head.minor);
  }
  return head.contentLength;
}

/**
 * Whether the client waits for `100 Continue` before sending its body: it sent
 * `Expect: 100-continue` in HTTP/1.1 (an HTTP/1.0 one is ignored, RFC 9110 §10.1.1) and has a
 * body to send.
 *
 * @example
 * ```ts ignore
 * import { expectsContinue } from "./request_framing.ts";
 * expectsContinue(head); // true for a 1.1 POST with Expect: 100-continue and a body
 * ```
 */
export function expectsContinue(head: RequestHead): boolean {
  return head.expectContinue && head.minor === 1 && (head.chunked || head.contentLength > 0);
}

/**
 * Whether to send `100 Continue` now that the app starts reading a body whose client waits for
 * it: only if none of the body has arrived (RFC 9110 §10.1.1: a server MAY omit it once some of
 * the content came anyway). An app that answers without reading never triggers it.
 *
 * @example
 * ```ts
 * import { sendsContinue } from "./request_framing.ts";
 * sendsContinue(true, 0); // true
 * sendsContinue(true, 5); // false: the client did not wait
 * ```
 */
export function sendsContinue(awaitingContinue: boolean, bytesBuffered: number): boolean {
  return awaitingContinue && bytesBuffered === 0;
}
