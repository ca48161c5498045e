/**
 * The connection loop over in-memory connections (`tests/_helpers/memory_conn.ts`): the test
 * plays the client byte by byte, with no socket in the way, and reads exactly what the server
 * wrote. Deadlines, interim heads, request validation, log coalescing and write integrity.
 */
import assert from "node:assert/strict";
import { parseResponse, randomBytes, type RawResponse, sleep } from "../_helpers/engine_harness.ts";
import type { MemoryConn } from "../_helpers/memory_conn.ts";
import { startMemoryEngine } from "../_helpers/memory_engine.ts";
import { type Upgrade, upgradeKey } from "../../lib/engine/handoff.ts";

const H = "Host: example.com\r\n";
const GET = `GET / HTTP/1.1\r\n${H}\r\n`;
const path = (request: Request) => new URL(request.url).pathname;

/** The responses `conn` received, parsed, once `count` are complete (or it closed). */
async function responses(conn: MemoryConn, count = 1, ms = 3000): Promise<RawResponse[]> {
  let parsed: RawResponse[] = [];
  const ready = () => {
    parsed = [];
    let at = 0;
    while (parsed.length < count) {
      const one = parseResponse(conn.received, at, false, conn.serverClosed);
      if (one === null) return conn.serverClosed;
      parsed.push(one.response);
      at = one.end;
      if (at === conn.received.length) break;
    }
    return parsed.length >= count || conn.serverClosed;
  };
  if (!(await conn.until(ready, ms))) {
    throw new Error(`no ${count} responses within ${ms} ms: ${JSON.stringify(conn.received)}`);
  }
  return parsed;
}

function field(response: RawResponse, name: string): string | undefined {
  return response.fields.find(([n]) => n === name)?.[1];
}

// -------------------------------------------------------------------------------------------------
// The loop, byte for byte

Deno.test("loop: pipelined requests sent in one piece are answered in order, in one write", async () => {
  await using engine = startMemoryEngine((request) => new Response(path(request)));
  const conn = engine.connect();
  conn.send(`GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
  const [a, b] = await responses(conn, 2);
  assert.deepEqual([a.body, b.body], ["/a", "/b"]);
  assert.equal(conn.serverClosed, false);
});

Deno.test("loop: a head split at every byte parses as one request (RFC 9112 §2.2: leading CRLFs ignored)", async () => {
  await using engine = startMemoryEngine((request) => new Response(request.headers.get("x-a")));
  const conn = engine.connect();
  for (const c of `\r\n\r\nGET / HTTP/1.1\r\n${H}X-A: split\r\n\r\n`) {
    conn.send(c);
    await sleep(0);
  }
  assert.equal((await responses(conn))[0].body, "split");
});

Deno.test("loop: 100 Continue goes out, exactly, when the app starts reading, then the answer", async () => {
  await using engine = startMemoryEngine(async (request) => new Response(await request.text()));
  const conn = engine.connect();
  conn.send(`POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\n`);
  await conn.untilReceived("\r\n\r\n");
  assert.equal(conn.received, "HTTP/1.1 100 Continue\r\n\r\n");
  conn.received = "";
  conn.send("abc");
  assert.equal((await responses(conn))[0].body, "abc");
});

Deno.test("loop: a 101 is written through writeHead with the upgrade's fields, and the rest of the bytes are handed over", async () => {
  const handed = Promise.withResolvers<string>();
  const upgrade: Upgrade = {
    headers: new Headers({ Upgrade: "test", Connection: "Upgrade" }),
    run(_conn, head) {
      handed.resolve(new TextDecoder().decode(head));
      return Promise.resolve();
    },
  };
  await using engine = startMemoryEngine(() =>
    Object.assign(new Response(null), { [upgradeKey]: upgrade })
  );
  const conn = engine.connect();
  conn.send(`GET / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: test\r\n\r\nearly bytes`);
  assert.equal(await handed.promise, "early bytes");
  assert.equal(
    conn.received,
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: test\r\n\r\n",
  );
});

// -------------------------------------------------------------------------------------------------
// Deadlines (issue 13 items 4 and 5)

Deno.test("loop: an app silent past --timeout gets 503 after the responses already made, and the connection closes (issue 13 item 4)", async () => {
  const aborted = Promise.withResolvers<string>();
  await using engine = startMemoryEngine((request) => {
    if (path(request) === "/fast") return new Response("fast");
    request.signal.addEventListener("abort", () => aborted.resolve(request.signal.reason.name));
    return new Promise<Response>(() => {});
  }, { timeout: 300 });
  const conn = engine.connect();
  const sent = Date.now();
  conn.send(`GET /fast HTTP/1.1\r\n${H}\r\nGET /hang HTTP/1.1\r\n${H}\r\n`);
  const [fast, late] = await responses(conn, 2);
  assert.equal(fast.body, "fast");
  assert.equal(late.status, 503);
  assert.equal(field(late, "connection"), "close");
  await conn.until(() => conn.serverClosed);
  const took = conn.closedAt - sent;
  assert.ok(took >= 250 && took < 2000, `503 after ${took} ms`);
  assert.equal(await aborted.promise, "TimeoutError");
  assert.equal(engine.server.connections, 0, "the server forgot it, though the app never answered");
});

Deno.test("loop: a client that leaves while the app hangs is closed at once and forgotten (issue 13 item 4)", async () => {
  await using engine = startMemoryEngine(() => new Promise<Response>(() => {}));
  const conn = engine.connect();
  conn.send(GET);
  await sleep(150);
  conn.end();
  assert.ok(await conn.until(() => conn.serverClosed, 1000), "closed");
  assert.equal(engine.server.connections, 0);
});

Deno.test("loop: requests pipelined behind one the app hangs on are not read without bound", async () => {
  await using engine = startMemoryEngine(() => new Promise<Response>(() => {}));
  const conn = engine.connect();
  conn.send(GET);
  const flood = GET.repeat(1024 * 1024 / GET.length);
  conn.send(flood);
  await sleep(500);
  // Watching for a hang-up reads a little; the rest waits in the client's socket.
  assert.ok(conn.unread > flood.length - 256 * 1024, `${conn.unread} bytes left unread`);
  assert.equal(conn.serverClosed, false);
});

Deno.test("loop: bare CRLFs after a response do not extend --keepalive-timeout (issue 13 item 5)", async () => {
  await using engine = startMemoryEngine(() => new Response("x"), {
    keepaliveTimeout: 400,
    headerTimeout: 5000,
    timeout: 5000,
  });
  const conn = engine.connect();
  conn.send(GET);
  await responses(conn);
  const idleSince = Date.now();
  while (!conn.serverClosed && Date.now() - idleSince < 3000) {
    conn.send("\r\n");
    await sleep(100);
  }
  assert.ok(conn.serverClosed, "still open after 3 s of CRLFs");
  const took = conn.closedAt - idleSince;
  assert.ok(took >= 300 && took < 1500, `closed after ${took} ms`);
});

// -------------------------------------------------------------------------------------------------
// Authority and framing (issue 13 item 6)

async function refusedWith(request: string): Promise<RawResponse> {
  const seen: string[] = [];
  await using engine = startMemoryEngine((r) => {
    seen.push(r.url);
    return new Response(new URL(r.url).host);
  });
  const conn = engine.connect();
  conn.send(request);
  const [response] = await responses(conn);
  await conn.until(() => conn.serverClosed);
  assert.ok(conn.serverClosed, "closed after the refusal");
  assert.deepEqual(seen, [], "the app never saw it");
  return response;
}

Deno.test('loop: a Host that is not uri-host [":" port] is 400 before the app (RFC 9112 §3.2, RFC 9110 §7.2; issue 13 item 6)', async () => {
  for (const host of ["x:abc", "[::1", "a%zz", "a:1:2", ":80", "a:65536", "[v1.x]", "u@h"]) {
    const response = await refusedWith(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(response.status, 400, host);
    assert.equal(field(response, "connection"), "close");
  }
});

Deno.test("loop: an absolute-form target without a valid host is 400 (RFC 9110 §4.2.1; issue 13 item 6)", async () => {
  for (
    const target of ["http:///x", "http://a:1:2/", "http://[::1/", "http://u@h/", "https://:80/"]
  ) {
    assert.equal((await refusedWith(`GET ${target} HTTP/1.1\r\n${H}\r\n`)).status, 400, target);
  }
});

Deno.test("loop: Transfer-Encoding: chunked, gzip is 400 and a close (RFC 9112 §6.3; issue 13 item 6)", async () => {
  const request = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`;
  assert.equal((await refusedWith(request)).status, 400);
});

Deno.test("loop: valid authorities reach the app as URLs it can parse", async () => {
  await using engine = startMemoryEngine((r) => new Response(new URL(r.url).host));
  const cases: [string, string][] = [
    [`GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n`, "[::1]:8080"],
    [`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, "127.0.0.1"],
    [`GET / HTTP/1.1\r\nHost: Example.COM:\r\n\r\n`, "example.com"],
    [`GET http://a.test:81/x HTTP/1.1\r\n${H}\r\n`, "a.test:81"],
  ];
  for (const [request, host] of cases) {
    const conn = engine.connect();
    conn.send(request);
    assert.equal((await responses(conn))[0].body, host, request);
  }
});

// -------------------------------------------------------------------------------------------------
// The log (issue 13 item 7)

Deno.test("loop: a client leaving mid-body is not logged as the app failing (issue 13 item 7)", async () => {
  const failed = Promise.withResolvers<void>();
  await using engine = startMemoryEngine(async (request) => {
    try {
      return new Response(await request.text());
    } finally {
      failed.resolve();
    }
  });
  const conn = engine.connect();
  conn.send(`POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nonly some`);
  await sleep(20);
  conn.end();
  await failed.promise;
  await conn.until(() => conn.serverClosed);
  assert.deepEqual(engine.warnings, []);
});

Deno.test("loop: repeated app failures are logged once a second, with a count (issue 13 item 7)", async () => {
  await using engine = startMemoryEngine(() => {
    throw new Error("boom");
  });
  for (let i = 0; i < 30; i++) {
    const conn = engine.connect();
    conn.send(GET);
    await responses(conn);
  }
  const failures = () => engine.warnings.filter((w) => w.startsWith("the app failed"));
  assert.deepEqual(failures(), ["the app failed on GET /: Error: boom"]);
  await sleep(1300);
  assert.equal(failures().length, 2, failures().join("\n"));
  assert.match(failures()[1], /^the app failed on GET \/ \(29 more like it in 1 s\)$/);
});

// -------------------------------------------------------------------------------------------------
// Integrity (issue 13 item 8)

Deno.test("loop: an echo over slow writes, beside busy connections, comes back byte for byte (issue 13 item 8)", async () => {
  await using engine = startMemoryEngine((request) =>
    path(request) === "/echo" ? new Response(request.body) : new Response("z".repeat(20_000))
  );
  for (const piece of [65_536, 3000]) {
    const body = randomBytes(300_000);
    const conn = engine.connect({ slowWrites: true });
    conn.send(`POST /echo HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n`);
    const others = Array.from({ length: 8 }, () => engine.connect());
    for (let at = 0; at < body.length; at += piece) {
      conn.send(body.subarray(at, at + piece));
      // Other connections borrow output buffers while the echo's writes are in flight.
      for (const other of others) other.send(GET);
      await sleep(0);
    }
    const [echo] = await responses(conn, 1, 10_000);
    let expected = "";
    for (const b of body) expected += String.fromCharCode(b);
    assert.equal(echo.body.length, body.length, `${piece}-byte pieces`);
    assert.ok(echo.body === expected, `${piece}-byte pieces: the same bytes`);
    for (const other of others) {
      for (const response of await responses(other, 1)) assert.equal(response.body.length, 20_000);
    }
  }
});
