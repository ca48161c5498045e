/**
 * Whether a connection persists after a response (RFC 9112 §9.3), and what a server does with
 * the part of a request body the app did not read (RFC 9112 §6.3, §9.6; RFC 9110 §10.1.1).
 *
 * @module
 */

import type { RequestHead } from "./head.ts";

/**
 * Whether the client asked for the connection to persist (RFC 9112 §9.3): HTTP/1.1 unless it
 * sent `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
 *
 * @example
 * ```ts
 * import { clientWantsKeepAlive } from "./persistence.ts";
 * clientWantsKeepAlive(1, false, false); // true: HTTP/1.1 persists by default
 * clientWantsKeepAlive(0, false, false); // false: HTTP/1.0 closes unless it asks
 * ```
 */
export function clientWantsKeepAlive(minor: number, close: boolean, keepAlive: boolean): boolean {
  return minor === 1 ? !close : keepAlive && !close;
}

/**
 * The keep-alive decision for the `served`-th request of a connection (1 for the first): the
 * client's wish, the per-connection request limit (`Infinity` for none) and whether the server is
 * retiring or draining, in which case every response closes its connection (RFC 9112 §9.6:
 * a server that intends to close says `Connection: close`).
 *
 * @example
 * ```ts ignore
 * import { keepAliveAfter } from "./persistence.ts";
 * keepAliveAfter(head, 1000, 1000, false); // false: the 1000th request is the last
 * ```
 */
export function keepAliveAfter(
  head: RequestHead,
  served: number,
  maxRequests: number,
  retiring: boolean,
): boolean {
  return clientWantsKeepAlive(head.minor, head.close, head.keepAlive) && served < maxRequests &&
    !retiring;
}

/** What is left of a request body once its response is decided. */
export interface BodyLeft {
  /** Its framing was invalid (a bad chunk, say) or the client left inside it. */
  readonly failed: boolean;
  /** All of it has been read. */
  readonly done: boolean;
  /** The app read from it or cancelled it (any `100 Continue` was sent). */
  readonly touched: boolean;
  /** The client still waits for `100 Continue` before it sends the body. */
  readonly awaitingContinue: boolean;
  /** Bytes of a Content-Length body still unread; -1 for chunked (unknown). */
  readonly remaining: number;
}

/** The body is all read: the connection goes on as the keep-alive decision says. */
export const BODY_READ = 0;
/** Read and discard the rest (at most {@link MAX_SKIP} bytes), then go on. */
export const BODY_SKIP = 1;
/** Close after the response: the next request cannot be found, or is not worth finding. */
export const BODY_CLOSE = 2;

/** What to do with an unread body: {@link BODY_READ}, {@link BODY_SKIP} or {@link BODY_CLOSE}. */
export type UnreadBodyAction = typeof BODY_READ | typeof BODY_SKIP | typeof BODY_CLOSE;

/** The most unread body bytes a server reads and discards to keep a connection open. */
export const MAX_SKIP = 64 * 1024;

/**
 * What to do with the unread part of a request body after answering:
 * - a body with invalid framing leaves no way to find the next request: close (RFC 9112 §6.3);
 * - a client waiting for `100 Continue` that never came may send the body or not: close rather
 *   than guess (RFC 9110 §10.1.1);
 * - a small Content-Length remainder, or what follows a body the app started, is read and
 *   discarded up to {@link MAX_SKIP} bytes (the reader gives up and closes beyond);
 * - an untouched chunked body or a large remainder: close (RFC 9112 §9.6).
 *
 * @example
 * ```ts
 * import { BODY_SKIP, unreadBodyAction } from "./persistence.ts";
 * const left = { failed: false, done: false, touched: false, awaitingContinue: false, remaining: 10 };
 * unreadBodyAction(left) === BODY_SKIP; // true
 * ```
 */
export function unreadBodyAction(body: BodyLeft): UnreadBodyAction {
  if (body.failed) return BODY_CLOSE;
  if (body.done) return BODY_READ;
  if (body.touched) return BODY_SKIP;
  if (body.awaitingContinue) return BODY_CLOSE;
  return body.remaining >= 0 && body.remaining <= MAX_SKIP ? BODY_SKIP : BODY_CLOSE;
}
