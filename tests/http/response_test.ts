/**
 * Byte-level rules of the response side of the sans-IO core: `writeHead`,
 * `errorResponse`, `httpDate`, status lines and the latin-1 head encoder.
 */
import "../../lib/http/node_reasons.ts";
import assert from "node:assert/strict";
import { STATUS_CODES } from "node:http";
import { httpDate } from "../../lib/http/date.ts";
import { errorResponse } from "../../lib/http/error_response.ts";
import { writeLatin1 } from "../../lib/http/latin1.ts";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  BODY_UNTIL_CLOSE,
  type ResponseContext,
  responseHead,
  writeHead,
} from "../../lib/http/response.ts";
import { headText } from "../_helpers/head_text.ts";
import { reasonPhrase, statusLine } from "../../lib/http/status.ts";

const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";

function context(overrides: Partial<ResponseContext> = {}): ResponseContext {
  return {
    minor: 1,
    head: false,
    keepAlive: true,
    date: DATE,
    server: "Starlight/test",
    ...overrides,
  };
}

/** The head's field lines (after the status line, before the blank line). */
function fields(text: string): string[] {
  assert.ok(text.endsWith("\r\n\r\n"), "head ends with a blank line");
  return text.slice(0, -4).split("\r\n").slice(1);
}

function field(text: string, name: string): string[] {
  return fields(text).filter((line) => line.startsWith(name + ": ")).map((line) =>
    line.slice(name.length + 2)
  );
}

// ---------------------------------------------------------------------------------------------
// Status line

Deno.test("writeHead: the status line is in the request's HTTP version", () => {
  assert.ok(
    headText(200, new Headers(), 0, context({ minor: 0 })).text.startsWith(
      "HTTP/1.0 200 OK\r\n",
    ),
  );
  assert.ok(
    headText(200, new Headers(), 0, context({ minor: 1 })).text.startsWith(
      "HTTP/1.1 200 OK\r\n",
    ),
  );
});

Deno.test("statusLine: reason phrases come from node:http STATUS_CODES", () => {
  for (const status of [200, 201, 301, 404, 418, 431, 500, 503, 505]) {
    assert.equal(statusLine(1, status), `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`);
    assert.equal(reasonPhrase(status), STATUS_CODES[status]);
  }
});

Deno.test("statusLine: an unknown status gets an empty reason (the space stays)", () => {
  assert.equal(statusLine(1, 599), "HTTP/1.1 599 \r\n");
  assert.equal(statusLine(0, 299), "HTTP/1.0 299 \r\n");
});

// ---------------------------------------------------------------------------------------------
// Fields

Deno.test("writeHead: a complete head, byte for byte", () => {
  const headers = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  const plan = headText(200, headers, 5, context());
  assert.equal(
    plan.text,
    "HTTP/1.1 200 OK\r\n" +
      "content-type: text/plain\r\n" +
      "x-a: 1\r\n" +
      `date: ${DATE}\r\n` +
      "server: Starlight/test\r\n" +
      "content-length: 5\r\n" +
      "\r\n",
  );
  assert.deepEqual([plan.mode, plan.contentLength, plan.keepAlive], [BODY_LENGTH, 5, true]);
});

Deno.test("writeHead: every Set-Cookie stays its own field line", () => {
  const headers = new Headers();
  headers.append("Set-Cookie", "a=1; Path=/");
  headers.append("Set-Cookie", "b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
  const text = headText(200, headers, 0, context()).text;
  assert.deepEqual(field(text, "set-cookie"), [
    "a=1; Path=/",
    "b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
  ]);
});

Deno.test("writeHead: other repeated fields are combined as Headers combines them", () => {
  const headers = new Headers();
  headers.append("Vary", "Accept");
  headers.append("Vary", "Origin");
  assert.deepEqual(field(headText(200, headers, 0, context()).text, "vary"), [
    "Accept, Origin",
  ]);
});

Deno.test("writeHead: Date and Server are added unless the app set them", () => {
  const added = headText(200, new Headers(), 0, context()).text;
  assert.deepEqual(field(added, "date"), [DATE]);
  assert.deepEqual(field(added, "server"), ["Starlight/test"]);
  const own = headText(200, new Headers({ Date: "yesterday", Server: "mine" }), 0, context()).text;
  assert.deepEqual(field(own, "date"), ["yesterday"]);
  assert.deepEqual(field(own, "server"), ["mine"]);
});

Deno.test("writeHead: an empty server name means no Server field", () => {
  assert.deepEqual(
    field(headText(200, new Headers(), 0, context({ server: "" })).text, "server"),
    [],
  );
});

Deno.test("writeHead: framing fields of the app are never copied", () => {
  const headers = new Headers({
    "Transfer-Encoding": "gzip",
    "Keep-Alive": "timeout=5",
    Connection: "keep-alive",
    "Content-Length": "999",
  });
  const text = headText(200, headers, 3, context()).text;
  assert.deepEqual(field(text, "transfer-encoding"), []);
  assert.deepEqual(field(text, "keep-alive"), []);
  assert.deepEqual(field(text, "connection"), []);
  assert.deepEqual(field(text, "content-length"), ["3"]);
});

// ---------------------------------------------------------------------------------------------
// Body framing

Deno.test("writeHead: a body of known length gets Content-Length", () => {
  const plan = headText(200, new Headers(), 1234, context());
  assert.deepEqual(field(plan.text, "content-length"), ["1234"]);
  assert.equal(plan.mode, BODY_LENGTH);
  assert.equal(plan.contentLength, 1234);
});

Deno.test("writeHead: no body at all (null) is Content-Length: 0", () => {
  const plan = headText(200, new Headers(), -2, context());
  assert.deepEqual(field(plan.text, "content-length"), ["0"]);
  assert.equal(plan.mode, BODY_LENGTH);
  assert.equal(plan.contentLength, 0);
});

Deno.test("writeHead: an HTTP/1.1 stream of unknown length is chunked", () => {
  const plan = headText(200, new Headers(), -1, context());
  assert.deepEqual(field(plan.text, "transfer-encoding"), ["chunked"]);
  assert.deepEqual(field(plan.text, "content-length"), []);
  assert.equal(plan.mode, BODY_CHUNKED);
  assert.equal(plan.keepAlive, true);
});

Deno.test("writeHead: an HTTP/1.0 stream of unknown length is close-delimited", () => {
  const plan = headText(200, new Headers(), -1, context({ minor: 0 }));
  assert.deepEqual(field(plan.text, "transfer-encoding"), []);
  assert.deepEqual(field(plan.text, "content-length"), []);
  assert.deepEqual(field(plan.text, "connection"), ["close"]);
  assert.equal(plan.mode, BODY_UNTIL_CLOSE);
  assert.equal(plan.keepAlive, false);
});

Deno.test("writeHead: a stream with the app's Content-Length is sent with that length", () => {
  const plan = headText(200, new Headers({ "Content-Length": "10" }), -1, context());
  assert.deepEqual(field(plan.text, "content-length"), ["10"]);
  assert.deepEqual(field(plan.text, "transfer-encoding"), []);
  assert.deepEqual([plan.mode, plan.contentLength], [BODY_LENGTH, 10]);
});

Deno.test("writeHead: HEAD gets the GET's framing fields and no body", () => {
  for (const [length, minor] of [[5, 1], [-1, 1], [-2, 1], [5, 0], [-1, 0]]) {
    const get = headText(200, new Headers({ "X-A": "1" }), length, context({ minor }));
    const head = headText(
      200,
      new Headers({ "X-A": "1" }),
      length,
      context({ minor, head: true }),
    );
    assert.equal(head.mode, BODY_NONE, `length ${length}, minor ${minor}`);
    for (const name of ["content-length", "transfer-encoding", "x-a"]) {
      assert.deepEqual(field(head.text, name), field(get.text, name), `${name}, length ${length}`);
    }
  }
});

Deno.test("writeHead: HEAD with no body keeps the app's declared Content-Length", () => {
  const plan = headText(
    200,
    new Headers({ "Content-Length": "42" }),
    -2,
    context({ head: true }),
  );
  assert.deepEqual(field(plan.text, "content-length"), ["42"]);
  assert.equal(plan.mode, BODY_NONE);
});

Deno.test("writeHead: HEAD of an HTTP/1.0 stream stays persistent (nothing to delimit)", () => {
  const plan = headText(200, new Headers(), -1, context({ minor: 0, head: true }));
  assert.equal(plan.keepAlive, true);
  assert.deepEqual(field(plan.text, "connection"), ["keep-alive"]);
});

Deno.test("writeHead: 204 never carries a body, a length or chunking", () => {
  for (const length of [-2, -1, 0, 5]) {
    const plan = headText(204, new Headers({ "Content-Length": "5" }), length, context());
    assert.equal(plan.mode, BODY_NONE);
    assert.deepEqual(field(plan.text, "content-length"), []);
    assert.deepEqual(field(plan.text, "transfer-encoding"), []);
  }
});

Deno.test("writeHead: 1xx never carries a body, a length or chunking (RFC 9110 §8.6)", () => {
  for (const status of [100, 103, 199]) {
    const fields = new Headers({ "Content-Length": "5", "Transfer-Encoding": "chunked" });
    const plan = headText(status, fields, 5, context());
    assert.equal(plan.mode, BODY_NONE);
    assert.deepEqual(field(plan.text, "content-length"), []);
    assert.deepEqual(field(plan.text, "transfer-encoding"), []);
  }
});

Deno.test("writeHead: an interim head is the status line and the given fields, nothing added (RFC 9110 §15.2)", () => {
  const upgrade = new Headers({
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
  });
  const switching = headText(101, upgrade, -2, { ...context(), keepAlive: false });
  assert.equal(
    switching.text,
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n" +
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nupgrade: websocket\r\n\r\n",
  );
  assert.equal(headText(100, [], -2, context()).text, "HTTP/1.1 100 Continue\r\n\r\n");
});

Deno.test("writeHead: 304 never carries a body; the app's Content-Length is kept", () => {
  const plain = headText(304, new Headers(), -1, context());
  assert.equal(plain.mode, BODY_NONE);
  assert.deepEqual(field(plain.text, "content-length"), []);
  assert.deepEqual(field(plain.text, "transfer-encoding"), []);
  const declared = headText(304, new Headers({ "Content-Length": "77" }), -2, context());
  assert.equal(declared.mode, BODY_NONE);
  assert.deepEqual(field(declared.text, "content-length"), ["77"]);
});

// ---------------------------------------------------------------------------------------------
// Persistence

Deno.test("writeHead: a persistent HTTP/1.1 response has no Connection field", () => {
  assert.deepEqual(field(headText(200, new Headers(), 0, context()).text, "connection"), []);
});

Deno.test("writeHead: a closing response says Connection: close", () => {
  for (const minor of [0, 1]) {
    const plan = headText(200, new Headers(), 0, context({ minor, keepAlive: false }));
    assert.deepEqual(field(plan.text, "connection"), ["close"]);
    assert.equal(plan.keepAlive, false);
  }
});

Deno.test("writeHead: a persistent HTTP/1.0 response says Connection: keep-alive", () => {
  const plan = headText(200, new Headers(), 0, context({ minor: 0 }));
  assert.deepEqual(field(plan.text, "connection"), ["keep-alive"]);
  assert.equal(plan.keepAlive, true);
});

Deno.test("writeHead: the app's Connection: close ends persistence", () => {
  const plan = headText(200, new Headers({ Connection: "Close" }), 0, context());
  assert.deepEqual(field(plan.text, "connection"), ["close"]);
  assert.equal(plan.keepAlive, false);
});

// ---------------------------------------------------------------------------------------------
// errorResponse

Deno.test("errorResponse: a complete response, byte for byte", () => {
  const body = "Bad Request: invalid header field name\n";
  assert.equal(
    errorResponse(400, "invalid header field name", DATE, "Starlight/test"),
    "HTTP/1.1 400 Bad Request\r\n" +
      "content-type: text/plain; charset=utf-8\r\n" +
      `content-length: ${body.length}\r\n` +
      `date: ${DATE}\r\n` +
      "server: Starlight/test\r\n" +
      "connection: close\r\n" +
      "\r\n" + body,
  );
});

Deno.test("errorResponse: without detail the body is the reason phrase", () => {
  const text = errorResponse(408, "", DATE, "");
  assert.ok(text.endsWith("\r\n\r\nRequest Timeout\n"));
  assert.ok(text.includes("content-length: 16\r\n"));
  assert.ok(!text.includes("server:"));
});

Deno.test("errorResponse: the status line is in the given version", () => {
  assert.ok(
    errorResponse(417, "", DATE, "", false, 0).startsWith("HTTP/1.0 417 Expectation Failed\r\n"),
  );
});

Deno.test("errorResponse: keep-alive says so to HTTP/1.0 and says nothing to HTTP/1.1", () => {
  const ten = errorResponse(404, "", DATE, "", true, 0);
  assert.ok(ten.includes("connection: keep-alive\r\n"));
  const eleven = errorResponse(404, "", DATE, "", true, 1);
  assert.ok(!eleven.includes("connection:"));
});

Deno.test("errorResponse: a non-ASCII detail is sent as UTF-8 and counted in bytes", () => {
  const text = errorResponse(500, "caf\u00e9 \u2603 \u{1F600}", DATE, "");
  const bodyStart = text.indexOf("\r\n\r\n") + 4;
  const body = text.slice(bodyStart);
  const length = Number(/content-length: (\d+)/.exec(text)![1]);
  assert.equal(body.length, length);
  const raw = Uint8Array.from(body, (c) => {
    assert.ok(c.charCodeAt(0) <= 0xff, "one byte per character");
    return c.charCodeAt(0);
  });
  assert.equal(
    new TextDecoder().decode(raw),
    "Internal Server Error: caf\u00e9 \u2603 \u{1F600}\n",
  );
});

// ---------------------------------------------------------------------------------------------
// httpDate and latin-1

Deno.test("httpDate: formats an IMF-fixdate", () => {
  assert.equal(httpDate(784111777000), DATE);
  assert.equal(httpDate(Date.UTC(2024, 1, 29, 0, 0, 5)), "Thu, 29 Feb 2024 00:00:05 GMT");
});

Deno.test("httpDate: the current time by default", () => {
  const now = Date.now();
  assert.match(
    httpDate(),
    /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
  );
  assert.ok(Math.abs(Date.parse(httpDate()) - now) < 2000);
});

Deno.test("httpDate: cached within a second, recomputed for another second either way", () => {
  const base = Date.UTC(2030, 0, 1, 12, 0, 0);
  assert.equal(httpDate(base), "Tue, 01 Jan 2030 12:00:00 GMT");
  assert.equal(httpDate(base + 999), "Tue, 01 Jan 2030 12:00:00 GMT");
  assert.equal(httpDate(base + 1000), "Tue, 01 Jan 2030 12:00:01 GMT");
  assert.equal(httpDate(base - 1), "Tue, 01 Jan 2030 11:59:59 GMT");
  assert.equal(httpDate(base + 500), "Tue, 01 Jan 2030 12:00:00 GMT");
});

Deno.test("writeLatin1: ASCII and latin-1 characters become one byte each", () => {
  const buf = new Uint8Array(32).fill(0xaa);
  assert.equal(writeLatin1(buf, 1, "ab"), 1 + 2);
  assert.equal(writeLatin1(buf, 3, "\u00e9\u00ff"), 3 + 2);
  assert.deepEqual([...buf.subarray(0, 6)], [0xaa, 0x61, 0x62, 0xe9, 0xff, 0xaa]);
});

Deno.test("writeHead: a raw field list in any letter case is classified like Headers", () => {
  const fields: [string, string][] = [
    ["X-Custom", "1"],
    ["CONTENT-LENGTH", "99"],
    ["Transfer-Encoding", "chunked"],
    ["KEEP-ALIVE", "timeout=5"],
    ["Connection", "Close"],
    ["SERVER", "mine"],
    ["Date", "today"],
    ["Set-Cookie", "a=1"],
    ["set-cookie", "b=2"],
  ];
  const plan = headText(200, fields, 3, context());
  assert.equal(
    plan.text,
    "HTTP/1.1 200 OK\r\nX-Custom: 1\r\nSERVER: mine\r\nDate: today\r\nSet-Cookie: a=1\r\n" +
      "set-cookie: b=2\r\ncontent-length: 3\r\nconnection: close\r\n\r\n",
  );
  assert.equal(plan.keepAlive, false);
  const streamed = headText(200, [["Content-Length", "7"]], -1, context());
  assert.deepEqual([streamed.mode, streamed.contentLength], [BODY_LENGTH, 7]);
});

Deno.test("writeHead: false when the buffer is too small; the same head once it fits", () => {
  const fields: [string, string][] = [["x-long", "v".repeat(300)]];
  const plan = responseHead();
  assert.equal(writeHead(new Uint8Array(200), 0, 200, fields, null, 2, context(), plan), false);
  const out = new Uint8Array(1024);
  assert.equal(writeHead(out, 10, 200, fields, null, 2, context(), plan), true);
  const text = new TextDecoder("latin1").decode(out.subarray(10, plan.end));
  assert.equal(text, headText(200, fields, 2, context()).text);
  assert.ok(text.includes("x-long: " + "v".repeat(300) + "\r\n"));
});

Deno.test("writeHead: a content type kept apart from the fields follows them", () => {
  const plan = headText(200, [["x-a", "1"]], 2, context(), "text/plain;charset=UTF-8");
  assert.deepEqual(fields(plan.text).slice(0, 3), [
    "x-a: 1",
    "content-type: text/plain;charset=UTF-8",
    `date: ${DATE}`,
  ]);
});

Deno.test("writeHead: latin-1 field values go out one byte per character", () => {
  const plan = responseHead();
  const out = new Uint8Array(512);
  writeHead(out, 0, 200, [["x-name", "caf\u00e9"]], null, 0, context(), plan);
  const at = out.indexOf(0x63);
  assert.deepEqual([...out.subarray(at, at + 5)], [0x63, 0x61, 0x66, 0xe9, 13]);
});

Deno.test("writeHead: each call writes the date it is given", () => {
  const later = "Mon, 07 Nov 1994 08:49:37 GMT";
  assert.deepEqual(field(headText(200, [], 0, context()).text, "date"), [DATE]);
  assert.deepEqual(field(headText(200, [], 0, context({ date: later })).text, "date"), [later]);
  assert.deepEqual(field(headText(200, [], 0, context()).text, "date"), [DATE]);
});
