/**
 * Black-box tests of request heads over a socket: request line forms, versions, header
 * validation, limits and Host, asserted on the bytes the engine writes back.
 */
import assert from "node:assert/strict";
import {
  exchange,
  expectRefusal,
  fieldValue,
  RawClient,
  recorder,
  startEngine,
} from "../_helpers/engine_harness.ts";

const H = "Host: example.com\r\n";

Deno.test("engine: an origin-form GET reaches the app with its URL built from Host", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const [response] = await exchange(engine.port, `GET /path?q=1 HTTP/1.1\r\n${H}\r\n`);
  assert.equal(response.status, 200);
  assert.equal(response.body, "ok");
  assert.equal(seen[0].method, "GET");
  assert.equal(seen[0].url, "http://example.com/path?q=1");
});

Deno.test("engine: any token is a method, passed to the app as sent", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await exchange(engine.port, `PURGE /x HTTP/1.1\r\n${H}\r\n`);
  assert.equal(seen[0].method, "PURGE");
});

Deno.test("engine: the URL of an absolute-form request is its target", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const [response] = await exchange(
    engine.port,
    `GET http://other.example:8080/p?q=2 HTTP/1.1\r\n${H}\r\n`,
  );
  assert.equal(response.status, 200);
  assert.equal(seen[0].url, "http://other.example:8080/p?q=2");
});

Deno.test("engine: OPTIONS * reaches the app", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const [response] = await exchange(engine.port, `OPTIONS * HTTP/1.1\r\n${H}\r\n`);
  assert.equal(response.status, 200);
  assert.equal(seen[0].method, "OPTIONS");
  assert.equal(new URL(seen[0].url).host, "example.com");
});

Deno.test("engine: asterisk-form with another method is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET * HTTP/1.1\r\n${H}\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: CONNECT is 501", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`, 501);
  assert.equal(seen.length, 0);
});

Deno.test("engine: HTTP/1.0 requests are served, without Host", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const [response] = await exchange(engine.port, "GET /old HTTP/1.0\r\n\r\n");
  assert.equal(response.status, 200);
  assert.equal(new URL(seen[0].url).pathname, "/old");
});

Deno.test("engine: an unsupported HTTP version is 505", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/2.0\r\n${H}\r\n`, 505);
  await expectRefusal(engine.port, `GET / HTTP/1.2\r\n${H}\r\n`, 505);
  assert.equal(seen.length, 0);
});

Deno.test("engine: a malformed request line is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  for (
    const line of [
      "GET / http/1.1",
      "GET  / HTTP/1.1",
      "GET /a b HTTP/1.1",
      "GET /",
      "\x16\x03\x01",
    ]
  ) {
    await expectRefusal(engine.port, `${line}\r\n${H}\r\n`, 400);
  }
  assert.equal(seen.length, 0);
});

Deno.test("engine: a request line over 8 KiB is 414", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET /${"a".repeat(8200)} HTTP/1.1\r\n${H}\r\n`, 414);
  // Refused before it ends, too.
  await expectRefusal(engine.port, `GET /${"a".repeat(9000)}`, 414);
  assert.equal(seen.length, 0);
});

Deno.test("engine: whitespace before a header colon is 400 with Connection: close", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X-A : 1\r\n\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: an invalid header name is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`, 400);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}: 1\r\n\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: obs-fold is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X-A: 1\r\n 2\r\n\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: a control character in a header value is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, 400);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: a bare LF in the head is 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`, 400);
  await expectRefusal(engine.port, `GET / HTTP/1.1\n${H}\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: a header section over 64 KiB is 431", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const filler = `X-Filler: ${"f".repeat(1000)}\r\n`.repeat(66);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}${filler}\r\n`, 431);
  assert.equal(seen.length, 0);
});

Deno.test("engine: headers over 128 KiB get a 431, not a silent reset (defect 8)", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const filler = `X-Filler: ${"f".repeat(1000)}\r\n`.repeat(200);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}${filler}\r\n`, 431);
  assert.equal(seen.length, 0);
});

Deno.test("engine: more than 100 header fields is 431", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}${fields(100)}\r\n`, 431);
  const [ok] = await exchange(engine.port, `GET / HTTP/1.1\r\n${H}${fields(99)}\r\n`);
  assert.equal(ok.status, 200);
  assert.equal(seen.length, 1);
});

Deno.test("engine: HTTP/1.1 without Host is 400 (defect 8)", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: two Host fields are 400", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(engine.port, `GET / HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: duplicate headers reach the app combined as Headers combines them", async () => {
  let values: (string | null)[] = [];
  await using engine = startEngine((request) => {
    values = [
      request.headers.get("x-dup"),
      request.headers.get("accept"),
      request.headers.get("x-one"),
    ];
    return new Response("ok");
  });
  await exchange(
    engine.port,
    `GET / HTTP/1.1\r\n${H}X-Dup: a\r\nAccept: text/html\r\nx-dup: b\r\nX-DUP:  c \r\nX-One: 1\r\n\r\n`,
  );
  assert.deepEqual(values, ["a, b, c", "text/html", "1"]);
});

Deno.test("engine: refusals answer an HTTP/1.0 client in HTTP/1.0", {}, async () => {
  await using engine = startEngine(() => new Response("ok"));
  const response = await expectRefusal(engine.port, "POST / HTTP/1.0\r\nExpect: x\r\n\r\n", 417);
  assert.equal(response.version, "HTTP/1.0");
});

Deno.test("engine: a refused request ends the connection even with more requests queued", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await using client = await RawClient.connect(engine.port);
  await client.write(
    `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\nX A: 1\r\n\r\nGET /3 HTTP/1.1\r\n${H}\r\n`,
  );
  assert.equal((await client.response()).status, 200);
  const refusal = await client.response();
  assert.equal(refusal.status, 400);
  assert.equal(fieldValue(refusal, "connection"), "close");
  assert.equal(await client.untilClosed(), "");
  assert.deepEqual(seen.map((r) => new URL(r.url).pathname), ["/1"]);
});

Deno.test("engine: bytes that cannot start a request (a TLS hello) are refused at once", async () => {
  await using engine = startEngine(() => new Response("ok"), {
    headerTimeout: 10_000,
    timeout: 10_000,
  });
  const started = Date.now();
  await expectRefusal(
    engine.port,
    new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]),
    400,
  );
  assert.ok(Date.now() - started < 2000, "not held until a timeout");
});
