/**
 * Connection persistence (RFC 9112 §9.3) and what to do with an unread request body
 * (RFC 9112 §6.3, §9.6; RFC 9110 §10.1.1), as pure decisions.
 */
import assert from "node:assert/strict";
import { parseHead, type RequestHead } from "../../lib/http/head.ts";
import {
  BODY_CLOSE,
  BODY_READ,
  BODY_SKIP,
  type BodyLeft,
  clientWantsKeepAlive,
  keepAliveAfter,
  MAX_SKIP,
  unreadBodyAction,
} from "../../lib/http/persistence.ts";

function head(text: string): RequestHead {
  const bytes = new TextEncoder().encode(text);
  const parsed = parseHead(bytes, 0, bytes.length);
  if (parsed === null || !("method" in parsed)) throw new Error(`not a head: ${text}`);
  return parsed;
}

const H11 = head("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

Deno.test("persistence: HTTP/1.1 persists unless the client says close (RFC 9112 §9.3)", () => {
  assert.equal(clientWantsKeepAlive(1, false, false), true);
  assert.equal(clientWantsKeepAlive(1, true, false), false);
  assert.equal(clientWantsKeepAlive(1, true, true), false);
});

Deno.test("persistence: HTTP/1.0 persists only with keep-alive and without close (RFC 9112 §9.3)", () => {
  assert.equal(clientWantsKeepAlive(0, false, false), false);
  assert.equal(clientWantsKeepAlive(0, false, true), true);
  assert.equal(clientWantsKeepAlive(0, true, true), false);
});

Deno.test("persistence: the N-th request of a connection limited to N is its last", () => {
  assert.equal(keepAliveAfter(H11, 2, 3, false), true);
  assert.equal(keepAliveAfter(H11, 3, 3, false), false);
  assert.equal(keepAliveAfter(H11, 1, 1, false), false, "1 turns keep-alive off");
  assert.equal(keepAliveAfter(H11, 1e9, Infinity, false), true, "Infinity is no limit");
});

Deno.test("persistence: a retiring or draining server closes after every response (RFC 9112 §9.6)", () => {
  assert.equal(keepAliveAfter(H11, 1, Infinity, true), false);
});

Deno.test("persistence: the request's own Connection header is read from the head", () => {
  const close = head("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const old = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  assert.equal(keepAliveAfter(close, 1, Infinity, false), false);
  assert.equal(keepAliveAfter(old, 1, Infinity, false), true);
});

const left = (overrides: Partial<BodyLeft>): BodyLeft => ({
  failed: false,
  done: false,
  touched: false,
  awaitingContinue: false,
  remaining: 10,
  ...overrides,
});

Deno.test("unread body: a failed body closes the connection: the next request cannot be found (RFC 9112 §6.3)", () => {
  assert.equal(unreadBodyAction(left({ failed: true })), BODY_CLOSE);
  assert.equal(unreadBodyAction(left({ failed: true, done: true })), BODY_CLOSE);
});

Deno.test("unread body: a body read to its end needs nothing", () => {
  assert.equal(unreadBodyAction(left({ done: true, remaining: 0 })), BODY_READ);
});

Deno.test("unread body: a small Content-Length rest is skipped; a large one closes", () => {
  assert.equal(unreadBodyAction(left({ remaining: MAX_SKIP })), BODY_SKIP);
  assert.equal(unreadBodyAction(left({ remaining: MAX_SKIP + 1 })), BODY_CLOSE);
});

Deno.test("unread body: an untouched chunked body closes (its size is unknown)", () => {
  assert.equal(unreadBodyAction(left({ remaining: -1 })), BODY_CLOSE);
});

Deno.test("unread body: a client still waiting for 100 Continue is not guessed at: close (RFC 9110 §10.1.1)", () => {
  assert.equal(unreadBodyAction(left({ awaitingContinue: true, remaining: 1 })), BODY_CLOSE);
});

Deno.test("unread body: what follows a body the app started is skipped, within the skip budget", () => {
  assert.equal(unreadBodyAction(left({ touched: true, remaining: -1 })), BODY_SKIP);
  assert.equal(unreadBodyAction(left({ touched: true, remaining: 10 * MAX_SKIP })), BODY_SKIP);
});
