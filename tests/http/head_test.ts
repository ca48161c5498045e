/**
 * Byte-level rules of the request head parser (`lib/http/head.ts`): `findHeadEnd`,
 * `checkPartialHead` and `parseHead`, one test per rule.
 */
import assert from "node:assert/strict";
import { ProtocolError } from "../../lib/http/error.ts";
import {
  checkPartialHead,
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  type HeadLimits,
  parseHead,
  type RequestHead,
} from "../../lib/http/head.ts";

/** One byte per character (so `\xe9` is the single byte 0xE9). */
function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function parse(text: string, limits?: HeadLimits): RequestHead | ProtocolError {
  const head = parseHead(bytes(text), 0, text.length, limits);
  assert.ok(head !== null, `no head end in ${JSON.stringify(text.slice(0, 80))}`);
  return head;
}

function accepted(text: string, limits?: HeadLimits): RequestHead {
  const head = parse(text, limits);
  if (head instanceof ProtocolError) {
    assert.fail(
      `refused with ${head.status} (${head.reason}): ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  return head;
}

function refused(text: string, status: number, limits?: HeadLimits): ProtocolError {
  const head = parse(text, limits);
  assert.ok(
    head instanceof ProtocolError,
    `accepted, expected ${status}: ${JSON.stringify(text.slice(0, 80))}`,
  );
  assert.equal(head.status, status, `${head.reason}: ${JSON.stringify(text.slice(0, 80))}`);
  return head;
}

const H = "Host: example.com\r\n";

// ---------------------------------------------------------------------------------------------
// findHeadEnd

Deno.test("findHeadEnd: returns the index just past CRLF CRLF", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
  assert.equal(findHeadEnd(bytes(text), 0, 0, text.length), text.indexOf("BODY"));
});

Deno.test("findHeadEnd: -1 while the blank line has not arrived", () => {
  for (const text of ["GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "G"]) {
    assert.equal(findHeadEnd(bytes(text), 0, 0, text.length), -1, JSON.stringify(text));
  }
});

Deno.test("findHeadEnd: a blank line of bare LFs also ends the head, so it can be refused", () => {
  const a = "GET / HTTP/1.1\nHost: a\n\nX";
  assert.equal(findHeadEnd(bytes(a), 0, 0, a.length), a.length - 1);
  const b = "GET / HTTP/1.1\r\nHost: a\n\r\nX";
  assert.equal(findHeadEnd(bytes(b), 0, 0, b.length), b.length - 1);
});

Deno.test("findHeadEnd: never looks past `end` (stale bytes in a reused buffer)", () => {
  const buf = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(findHeadEnd(buf, 0, 0, buf.length - 2), -1);
  assert.equal(findHeadEnd(buf, 0, 0, buf.length - 1), -1);
});

Deno.test("findHeadEnd: honours `start` (the second pipelined head in one buffer)", () => {
  const first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const text = first + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  const buf = bytes(text);
  assert.equal(findHeadEnd(buf, 0, 0, buf.length), first.length);
  assert.equal(findHeadEnd(buf, first.length, first.length, buf.length), text.length);
});

Deno.test("findHeadEnd: a scan resumed at end-3 finds a blank line split across reads", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const buf = bytes(text);
  for (let cut = 1; cut < text.length; cut++) {
    assert.equal(findHeadEnd(buf, 0, 0, cut), -1, `cut ${cut}`);
    assert.equal(findHeadEnd(buf, 0, Math.max(0, cut - 3), text.length), text.length, `cut ${cut}`);
  }
});

// ---------------------------------------------------------------------------------------------
// checkPartialHead

Deno.test("checkPartialHead: a small incomplete head is not refused", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1";
  assert.equal(checkPartialHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS), null);
});

Deno.test("checkPartialHead: 414 as soon as the request line passes 8 KiB without ending", () => {
  const text = "GET /" + "a".repeat(8 * 1024);
  const error = checkPartialHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS);
  assert.equal(error?.status, 414);
  const shorter = "GET /" + "a".repeat(8 * 1024 - 10);
  assert.equal(checkPartialHead(bytes(shorter), 0, shorter.length, DEFAULT_HEAD_LIMITS), null);
});

Deno.test("checkPartialHead: 431 as soon as an unfinished header section passes 64 KiB", () => {
  let text = "GET / HTTP/1.1\r\n" + H;
  while (text.length <= 64 * 1024) text += "X-Filler: " + "f".repeat(1000) + "\r\n";
  assert.equal(checkPartialHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS)?.status, 431);
  const upTo = text.slice(0, 64 * 1024);
  assert.equal(checkPartialHead(bytes(upTo), 0, upTo.length, DEFAULT_HEAD_LIMITS), null);
});

Deno.test("checkPartialHead: measures from `start`, not from the buffer's beginning", () => {
  const limits = { maxRequestLine: 20, maxHeaderBytes: 40, maxHeaderFields: 5 };
  const text = "x".repeat(100) + "GET / HTTP/1.1\r\n";
  assert.equal(checkPartialHead(bytes(text), 100, text.length, limits), null);
});

// ---------------------------------------------------------------------------------------------
// Request line

Deno.test("parseHead: origin-form request line and header fields", () => {
  const head = accepted("GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/path?q=1");
  assert.equal(head.minor, 1);
  assert.equal(head.host, "example.com");
  assert.deepEqual(head.names, ["host", "accept"]);
  assert.deepEqual(head.values, ["example.com", "*/*"]);
  assert.equal(head.contentLength, -1);
  assert.equal(head.chunked, false);
});

Deno.test("parseHead: any token is a method, case preserved", () => {
  for (const method of ["PURGE", "M-SEARCH", "get", "X_Y!#$%&'*+.^`|~1"]) {
    assert.equal(accepted(`${method} / HTTP/1.1\r\n${H}\r\n`).method, method);
  }
});

Deno.test("parseHead: a method that is not a token is 400", () => {
  for (const line of ["GE(T / HTTP/1.1", " / HTTP/1.1", 'G"T / HTTP/1.1', "GET\t/ HTTP/1.1"]) {
    refused(`${line}\r\n${H}\r\n`, 400);
  }
});

Deno.test("parseHead: absolute-form targets are kept whole (http and https)", () => {
  for (const target of ["http://example.com/a?b", "HTTPS://example.com:8443/", "http://h"]) {
    assert.equal(accepted(`GET ${target} HTTP/1.1\r\n${H}\r\n`).target, target);
  }
});

Deno.test("parseHead: an absolute-form target of another scheme, or no authority, is 400", () => {
  for (const target of ["ftp://example.com/", "http://", "example.com/", "http:/x"]) {
    refused(`GET ${target} HTTP/1.1\r\n${H}\r\n`, 400);
  }
});

Deno.test("parseHead: asterisk-form is accepted for OPTIONS only", () => {
  assert.equal(accepted(`OPTIONS * HTTP/1.1\r\n${H}\r\n`).target, "*");
  refused(`GET * HTTP/1.1\r\n${H}\r\n`, 400);
  refused(`OPTIONS ** HTTP/1.1\r\n${H}\r\n`, 400);
});

Deno.test("parseHead: CONNECT (authority-form) is refused with 501", () => {
  refused(`CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`, 501);
});

Deno.test("parseHead: HTTP/1.0 is accepted (minor 0) and needs no Host", () => {
  const head = accepted("GET / HTTP/1.0\r\n\r\n");
  assert.equal(head.minor, 0);
  assert.equal(head.host, "");
});

Deno.test("parseHead: well-formed versions other than 1.0 and 1.1 are 505", () => {
  for (const version of ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0", "HTTP/1.9"]) {
    refused(`GET / ${version}\r\n${H}\r\n`, 505);
  }
});

Deno.test("parseHead: malformed versions are 400", () => {
  for (const version of ["http/1.1", "HTTP/1", "HTTP/11.1", "HTTP/1.1x", "HTTP/1,1", "HTTPS/1.1"]) {
    refused(`GET / ${version}\r\n${H}\r\n`, 400);
  }
  refused(`GET /\r\n${H}\r\n`, 400);
});

Deno.test("parseHead: extra, missing or tab separators in the request line are 400", () => {
  for (
    const line of ["GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /  HTTP/1.1", "GET\t/\tHTTP/1.1"]
  ) {
    refused(`${line}\r\n${H}\r\n`, 400);
  }
});

Deno.test("parseHead: a request line ended by a bare LF is 400", () => {
  refused(`GET / HTTP/1.1\n${H}\r\n`, 400);
});

Deno.test("parseHead: control, space and non-ASCII bytes in the target are 400", () => {
  for (const target of ["/a b", "/a\x01", "/a\x7f", "/caf\xe9"]) {
    refused(`GET ${target} HTTP/1.1\r\n${H}\r\n`, 400);
  }
});

Deno.test("parseHead: a request line of exactly 8 KiB is accepted, one byte more is 414", () => {
  const fill = (n: number) => "GET /" + "a".repeat(n - "GET / HTTP/1.1".length) + " HTTP/1.1";
  assert.equal(fill(8192).length, 8192);
  accepted(`${fill(8192)}\r\n${H}\r\n`);
  refused(`${fill(8193)}\r\n${H}\r\n`, 414);
});

Deno.test("parseHead: a complete head over 64 KiB that is all request line is 414, not 431", () => {
  refused(`GET /${"a".repeat(70 * 1024)} HTTP/1.1\r\n${H}\r\n`, 414);
});

// ---------------------------------------------------------------------------------------------
// Header fields

Deno.test("parseHead: field names are lower-cased, values trimmed of surrounding whitespace", () => {
  const head = accepted(`GET / HTTP/1.1\r\n${H}X-Mixed-Case:  \t a  b \t \r\nX-Empty:\r\n\r\n`);
  assert.deepEqual(head.names, ["host", "x-mixed-case", "x-empty"]);
  assert.deepEqual(head.values, ["example.com", "a  b", ""]);
});

Deno.test("parseHead: common names come back equal to building them (interning is invisible)", () => {
  const names = ["ACCEPT", "Content-Length", "content-type", "User-Agent", "X-Forwarded-For", "Te"];
  const head = accepted(`GET / HTTP/1.1\r\n${H}${names.map((n) => `${n}: 0\r\n`).join("")}\r\n`);
  assert.deepEqual(head.names.slice(1), names.map((n) => n.toLowerCase()));
});

Deno.test("parseHead: whitespace between a field name and the colon is 400", () => {
  refused(`GET / HTTP/1.1\r\n${H}X-A : 1\r\n\r\n`, 400);
  refused(`GET / HTTP/1.1\r\n${H}X-A\t: 1\r\n\r\n`, 400);
});

Deno.test("parseHead: obs-fold (a line starting with whitespace) is 400", () => {
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\r\n  continued\r\n\r\n`, 400);
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\r\n\tcontinued\r\n\r\n`, 400);
  refused(`GET / HTTP/1.1\r\n ${H}\r\n`, 400);
});

Deno.test("parseHead: a field name that is not a token, or empty, is 400", () => {
  for (const line of [": x", "X(A): 1", "X A: 1", "X\xe9: 1", "X-A", 'X"A: 1']) {
    refused(`GET / HTTP/1.1\r\n${H}${line}\r\n\r\n`, 400);
  }
});

Deno.test("parseHead: control characters in a field value are 400", () => {
  for (const c of ["\x00", "\x01", "\x0b", "\x1f", "\x7f"]) {
    refused(`GET / HTTP/1.1\r\n${H}X-A: a${c}b\r\n\r\n`, 400);
  }
});

Deno.test("parseHead: a bare LF ending a field line is 400", () => {
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`, 400);
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\n\r\n`, 400);
});

Deno.test("parseHead: a bare CR in a field line or at the blank line is 400", () => {
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\rX-B: 2\r\n\r\n`, 400);
  refused(`GET / HTTP/1.1\r\n${H}\rX\r\n\r\n`, 400);
});

Deno.test("parseHead: HTAB and obs-text are allowed in values (obs-text read as latin-1)", () => {
  const head = accepted(`GET / HTTP/1.1\r\n${H}X-A: caf\xe9\tau lait\xff\r\n\r\n`);
  assert.equal(head.values[1], "caf\u00e9\tau lait\u00ff");
});

Deno.test("parseHead: duplicate fields are all kept, in arrival order", () => {
  const head = accepted(`GET / HTTP/1.1\r\n${H}Accept: a\r\nX-B: 1\r\nACCEPT: b\r\n\r\n`);
  assert.deepEqual(head.names, ["host", "accept", "x-b", "accept"]);
  assert.deepEqual(head.values, ["example.com", "a", "1", "b"]);
});

Deno.test("parseHead: a header section of exactly 64 KiB is accepted, one byte more is 431", () => {
  const build = (size: number) => {
    const base = `GET / HTTP/1.1\r\n${H}X-Fill: \r\n\r\n`;
    return base.replace("X-Fill: ", "X-Fill: " + "f".repeat(size - base.length));
  };
  assert.equal(build(65536).length, 65536);
  accepted(build(65536));
  refused(build(65537), 431);
});

Deno.test("parseHead: 100 header fields are accepted, 101 are 431", () => {
  const fields = (n: number) =>
    H + Array.from({ length: n - 1 }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  assert.equal(accepted(`GET / HTTP/1.1\r\n${fields(100)}\r\n`).names.length, 100);
  refused(`GET / HTTP/1.1\r\n${fields(101)}\r\n`, 431);
});

Deno.test("parseHead: smaller limits are honoured", () => {
  const limits = { maxRequestLine: 32, maxHeaderBytes: 128, maxHeaderFields: 2 };
  refused(`GET /${"a".repeat(40)} HTTP/1.1\r\n${H}\r\n`, 414, limits);
  refused(`GET / HTTP/1.1\r\n${H}X-A: 1\r\nX-B: 2\r\n\r\n`, 431, limits);
  refused(`GET / HTTP/1.1\r\n${H}X-A: ${"a".repeat(120)}\r\n\r\n`, 431, limits);
  accepted(`GET / HTTP/1.1\r\n${H}X-A: 1\r\n\r\n`, limits);
});

Deno.test("parseHead: HTTP/1.1 without Host is 400", () => {
  refused("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
  refused("GET http://example.com/ HTTP/1.1\r\n\r\n", 400);
});

Deno.test("parseHead: more than one Host is 400 (1.1 and 1.0)", () => {
  refused(`GET / HTTP/1.1\r\n${H}${H}\r\n`, 400);
  refused(`GET / HTTP/1.0\r\n${H}Host: other\r\n\r\n`, 400);
});

Deno.test("parseHead: a Host value with characters no host can have is 400", () => {
  for (const host of ["a b", "a/b", "a@b", "a\xe9", 'a"b']) {
    refused(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
  }
  for (const host of ["example.com:8080", "[::1]:80", "127.0.0.1", "xn--caf-dma.example", ""]) {
    assert.equal(accepted(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`).host, host);
  }
});

Deno.test("parseHead: the head may start anywhere in the buffer", () => {
  const first = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  const text = first + "DELETE /x HTTP/1.0\r\n\r\n";
  const head = parseHead(bytes(text), first.length, text.length);
  assert.ok(head !== null && !(head instanceof ProtocolError));
  assert.equal(head.method, "DELETE");
  assert.equal(head.target, "/x");
  assert.equal(head.minor, 0);
});

Deno.test("parseHead: null at every cut of a head, the head once it is whole", () => {
  const text = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Long: " + "v".repeat(40) +
    "\r\n\r\n";
  for (let cut = 1; cut < text.length; cut++) {
    assert.equal(parseHead(bytes(text), 0, cut), null, `cut at ${cut}`);
  }
  const head = parseHead(bytes(text), 0, text.length);
  assert.ok(head !== null && !(head instanceof ProtocolError));
  assert.equal(head.size, text.length);
});

Deno.test("parseHead: size ends at the blank line; what follows is not part of the head", () => {
  const first = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  const text = first + "hello" + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const head = parseHead(bytes(text), 0, text.length);
  assert.ok(head !== null && !(head instanceof ProtocolError));
  assert.equal(head.size, first.length);
  assert.equal(head.contentLength, 5);
  assert.deepEqual(head.names, ["host", "content-length"]);
});

Deno.test("parseHead: never reads past `end`, even when stale bytes there would end the head", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\n";
  const buf = bytes(text + "\r\n");
  assert.equal(parseHead(buf, 0, text.length), null);
  // The byte past the data is the parser's stop byte.
  assert.equal(buf[text.length], 0);
  const view = bytes(text + "\r\n").subarray(0, text.length);
  assert.equal(parseHead(view, 0, text.length), null);
});

Deno.test("parseHead: a fault waits for the end of its head, then is refused", () => {
  const partial = "GET / HTTP/1.1\r\nBad Name: x\r\n";
  assert.equal(parseHead(bytes(partial), 0, partial.length), null);
  const whole = partial + "\r\n";
  const error = parseHead(bytes(whole), 0, whole.length);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.status, 400);
});

Deno.test("parseHead: a 60 KiB field value decodes whole", () => {
  const value = "v".repeat(60 * 1024);
  assert.equal(accepted(`GET / HTTP/1.1\r\n${H}X-Big: ${value}\r\n\r\n`).values[1], value);
});

// ---------------------------------------------------------------------------------------------
// Body framing

Deno.test("parseHead: Content-Length is read as a decimal length", () => {
  assert.equal(accepted(`POST / HTTP/1.1\r\n${H}Content-Length: 42\r\n\r\n`).contentLength, 42);
  assert.equal(accepted(`POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`).contentLength, 0);
  assert.equal(accepted(`POST / HTTP/1.1\r\n${H}Content-Length: 007\r\n\r\n`).contentLength, 7);
});

Deno.test("parseHead: an invalid Content-Length is 400", () => {
  for (
    const value of [
      "abc",
      "-1",
      "+5",
      "",
      "1 2",
      "0x10",
      "5;",
      "1e3",
      "1234567890123456",
      "5,",
      ",5",
      "5,,5",
    ]
  ) {
    refused(`POST / HTTP/1.1\r\n${H}Content-Length: ${value}\r\n\r\n`, 400);
  }
});

Deno.test("parseHead: identical repeated Content-Length values are one length", () => {
  assert.equal(
    accepted(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`).contentLength,
    5,
  );
  assert.equal(accepted(`POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`).contentLength, 5);
});

Deno.test("parseHead: differing Content-Length values are 400", () => {
  refused(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, 400);
  refused(`POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\n`, 400);
});

Deno.test("parseHead: Transfer-Encoding: chunked (any case) marks a chunked body", () => {
  for (const value of ["chunked", "Chunked", "CHUNKED", " chunked "]) {
    const head = accepted(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n`);
    assert.equal(head.chunked, true, value);
    assert.equal(head.contentLength, -1);
  }
});

Deno.test("parseHead: Transfer-Encoding with Content-Length is 400, in either order", () => {
  refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`, 400);
  refused(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400);
  refused(`POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nTransfer-Encoding: gzip\r\n\r\n`, 400);
});

Deno.test("parseHead: an unknown transfer coding before a final chunked is 501 (RFC 9112 §6.1)", () => {
  for (const value of ["gzip, chunked", "identity, chunked", "x-custom, chunked"]) {
    refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n`, 501);
  }
});

Deno.test("parseHead: chunked not the final coding is 400, checked before the 501 (RFC 9112 §6.3; issue 13 item 6)", () => {
  for (const value of ["chunked, gzip", "gzip", "identity", "x-custom", "chunked, chunked, gzip"]) {
    refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n`, 400);
  }
});

Deno.test("parseHead: chunked twice, or an empty Transfer-Encoding, is 400", () => {
  refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400);
  refused(
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    400,
  );
  refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\n`, 400);
  refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ,\r\n\r\n`, 400);
});

Deno.test("parseHead: Transfer-Encoding in an HTTP/1.0 request is 400", () => {
  refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
});

// ---------------------------------------------------------------------------------------------
// Connection and Expect

Deno.test("parseHead: Connection options are recognised in lists and any case", () => {
  const connection = (value: string) => {
    const head = accepted(`GET / HTTP/1.1\r\n${H}Connection: ${value}\r\n\r\n`);
    return [head.close, head.keepAlive, head.upgrade];
  };
  assert.deepEqual(connection("close"), [true, false, false]);
  assert.deepEqual(connection("Keep-Alive"), [false, true, false]);
  assert.deepEqual(connection("keep-alive, Upgrade"), [false, true, true]);
  assert.deepEqual(connection("foo,  CLOSE ,bar"), [true, false, false]);
  assert.deepEqual(connection("closed, keep-alives, x-upgrade"), [false, false, false]);
  assert.deepEqual(connection(""), [false, false, false]);
});

Deno.test("parseHead: Connection options add up over several fields", () => {
  const head = accepted(`GET / HTTP/1.1\r\n${H}Connection: upgrade\r\nConnection: close\r\n\r\n`);
  assert.deepEqual([head.close, head.upgrade], [true, true]);
});

Deno.test("parseHead: Expect: 100-continue in any case is accepted", () => {
  for (const value of ["100-continue", "100-Continue", "100-CONTINUE"]) {
    assert.equal(
      accepted(`POST / HTTP/1.1\r\n${H}Expect: ${value}\r\nContent-Length: 1\r\n\r\n`)
        .expectContinue,
      true,
    );
  }
  assert.equal(accepted(`POST / HTTP/1.1\r\n${H}\r\n`).expectContinue, false);
});

Deno.test("parseHead: any other expectation is 417", () => {
  for (const value of ["100-continued", "200-ok", "foo", "100-continue, foo", ""]) {
    refused(`POST / HTTP/1.1\r\n${H}Expect: ${value}\r\n\r\n`, 417);
  }
});

Deno.test("parseHead: errors found after the request line carry the request's version", () => {
  assert.equal(refused("POST / HTTP/1.0\r\nExpect: foo\r\n\r\n", 417).minor, 0);
  assert.equal(refused("GET / HTTP/1.0\r\nX A: 1\r\n\r\n", 400).minor, 0);
  assert.equal(refused(`GET / HTTP/1.1\r\n${H}X A: 1\r\n\r\n`, 400).minor, 1);
  assert.equal(refused(`GET / HTTP/2.0\r\n\r\n`, 505).minor, 1);
});

Deno.test("checkPartialHead: bytes that can never start a request line are 400 at once", () => {
  for (
    const text of [
      "\x16\x03\x01\x02\x00",
      "\x00",
      "GET\x00",
      "GET /\x01",
      "GET / X",
      "GET / HTTP/1.1 ",
      " GET",
    ]
  ) {
    assert.equal(
      checkPartialHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS)?.status,
      400,
      JSON.stringify(text),
    );
  }
  for (
    const text of [
      "G",
      "GET",
      "GET ",
      "GET /a",
      "GET /a ",
      "GET /a HTT",
      "GET /a HTTP/1.1",
      "GET / HTTP/1.1\r\nHo",
    ]
  ) {
    assert.equal(
      checkPartialHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS),
      null,
      JSON.stringify(text),
    );
  }
});

Deno.test('parseHead: a Host that is not uri-host [":" port] is 400 (RFC 9112 §3.2; issue 13 item 6)', () => {
  for (const host of ["x:abc", "[::1", "a%zz", "a:1:2", ":80", "a:99999"]) {
    refused(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
  }
  refused(`GET http:///x HTTP/1.1\r\n${H}\r\n`, 400);
  accepted(`GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n`);
  accepted(`GET http://[::1]:8080/x HTTP/1.1\r\n${H}\r\n`);
});
