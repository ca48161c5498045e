/**
 * Where a request starts and how long its body is: empty lines before a request line
 * (RFC 9112 §2.2), body length (RFC 9112 §6.3), the 413 for a declared length over the limit
 * (RFC 9110 §15.5.14), and `100 Continue` (RFC 9110 §10.1.1).
 */
import assert from "node:assert/strict";
import { ProtocolError } from "../../lib/http/error.ts";
import { parseHead, type RequestHead } from "../../lib/http/head.ts";
import {
  CHUNKED_BODY,
  expectsContinue,
  requestBodyLength,
  sendsContinue,
  skipEmptyLines,
} from "../../lib/http/request_framing.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function head(text: string): RequestHead {
  const buf = bytes(text);
  const parsed = parseHead(buf, 0, buf.length);
  if (parsed === null || parsed instanceof ProtocolError) throw new Error(`not a head: ${text}`);
  return parsed;
}

Deno.test("framing: empty lines before a request line are skipped, CRLF or bare LF (RFC 9112 §2.2)", () => {
  const buf = bytes("\r\n\n\r\nGET");
  assert.equal(skipEmptyLines(buf, 0, buf.length), 5);
  assert.equal(skipEmptyLines(buf, 0, 3), 3, "stops at the end of what arrived");
  assert.equal(skipEmptyLines(bytes("GET"), 0, 3), 0, "nothing to skip");
});

Deno.test("framing: chunked, Content-Length, or no body at all (RFC 9112 §6.3)", () => {
  const h = "Host: a\r\n";
  assert.equal(
    requestBodyLength(head(`POST / HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n`), 10),
    CHUNKED_BODY,
  );
  assert.equal(requestBodyLength(head(`POST / HTTP/1.1\r\n${h}Content-Length: 7\r\n\r\n`), 10), 7);
  assert.equal(requestBodyLength(head(`POST / HTTP/1.1\r\n${h}\r\n`), 10), 0, "rule 6");
  assert.equal(requestBodyLength(head(`POST / HTTP/1.1\r\n${h}Content-Length: 0\r\n\r\n`), 10), 0);
});

Deno.test("framing: a declared length over the limit is 413 before any of it is read (RFC 9110 §15.5.14)", () => {
  const over = requestBodyLength(head("POST / HTTP/1.0\r\nContent-Length: 11\r\n\r\n"), 10);
  assert.ok(over instanceof ProtocolError);
  assert.equal(over.status, 413);
  assert.equal(over.minor, 0, "answered in the client's version");
  assert.equal(requestBodyLength(head("POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n"), 10), 10);
  const huge = head("POST / HTTP/1.0\r\nContent-Length: 999999999999999\r\n\r\n");
  assert.equal(requestBodyLength(huge, Infinity), 999999999999999, "Infinity is no limit");
});

Deno.test("framing: 100-continue is expected only from HTTP/1.1 with a body (RFC 9110 §10.1.1)", () => {
  const e = "Expect: 100-continue\r\n";
  assert.equal(
    expectsContinue(head(`POST / HTTP/1.1\r\nHost: a\r\n${e}Content-Length: 1\r\n\r\n`)),
    true,
  );
  assert.equal(expectsContinue(head(`POST / HTTP/1.0\r\n${e}Content-Length: 1\r\n\r\n`)), false);
  assert.equal(expectsContinue(head(`GET / HTTP/1.1\r\nHost: a\r\n${e}\r\n`)), false, "no body");
});

Deno.test("framing: 100 Continue is omitted once some of the body came anyway (RFC 9110 §10.1.1)", () => {
  assert.equal(sendsContinue(true, 0), true);
  assert.equal(sendsContinue(true, 1), false);
  assert.equal(sendsContinue(false, 0), false);
});
