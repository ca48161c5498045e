/**
 * Black-box tests of connection management over a socket: persistence, pipelining and write
 * batching, request limits, the three timeouts (slowloris included), client disconnects, and
 * isolation between connections.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  exchange,
  fieldValue,
  RawClient,
  sleep,
  startEngine,
  within,
} from "../_helpers/engine_harness.ts";

const H = "Host: example.com\r\n";
const encoder = new TextEncoder();
const GET = `GET / HTTP/1.1\r\n${H}\r\n`;
const path = (request: Request) => new URL(request.url).pathname;

Deno.test("engine: HTTP/1.1 connections persist by default", async () => {
  await using engine = startEngine((request) => new Response(path(request)));
  await using client = await RawClient.connect(engine.port);
  for (const p of ["/1", "/2", "/3"]) {
    await client.write(`GET ${p} HTTP/1.1\r\n${H}\r\n`);
    const response = await client.response();
    assert.equal(response.body, p);
    assert.equal(fieldValue(response, "connection"), undefined);
  }
  assert.ok(await client.quietFor(100), "still open");
});

Deno.test("engine: Connection: close ends an HTTP/1.1 connection after the response", async () => {
  await using engine = startEngine(() => new Response("bye"));
  const [response] = await exchange(
    engine.port,
    `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    1,
    {
      expectClose: true,
    },
  );
  assert.equal(fieldValue(response, "connection"), "close");
});

Deno.test("engine: HTTP/1.0 closes after the response unless it asked for keep-alive", async () => {
  await using engine = startEngine(() => new Response("old"));
  const [response] = await exchange(engine.port, "GET / HTTP/1.0\r\n\r\n", 1, {
    expectClose: true,
  });
  assert.equal(fieldValue(response, "connection"), "close");
});

Deno.test("engine: HTTP/1.0 with Connection: keep-alive persists, and the response says so", async () => {
  await using engine = startEngine((request) => new Response(path(request)));
  await using client = await RawClient.connect(engine.port);
  await client.write("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const first = await client.response();
  assert.equal(fieldValue(first, "connection"), "keep-alive");
  await client.write("GET /2 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  assert.equal((await client.response()).body, "/2");
});

Deno.test("engine: pipelined requests are answered in order, slow ones first included", async () => {
  await using engine = startEngine(async (request) => {
    const n = Number(path(request).slice(1));
    await sleep((10 - n) * 5);
    return new Response(String(n));
  });
  const requests = Array.from({ length: 10 }, (_, i) => `GET /${i} HTTP/1.1\r\n${H}\r\n`).join("");
  const responses = await exchange(engine.port, requests, 10);
  assert.deepEqual(responses.map((r) => r.body), [
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
  ]);
});

Deno.test("engine: responses to pipelined requests are batched into few writes", async () => {
  await using engine = startEngine(() => new Response("hello"));
  const requests = GET.repeat(20);
  await exchange(engine.port, requests, 20);
  const writes = engine.writes[0];
  // One read carries all 20 requests, so all 20 answers fit in one write (two if the read split).
  assert.ok(writes.length <= 2, `${writes.length} writes: ${writes.join(", ")}`);
});

Deno.test("engine: --max-keepalive-reqs N: the N-th response says close and the connection ends", async () => {
  await using engine = startEngine((request) => new Response(path(request)), {
    maxKeepaliveRequests: 3,
  });
  await using client = await RawClient.connect(engine.port);
  await client.write([1, 2, 3, 4].map((i) => `GET /${i} HTTP/1.1\r\n${H}\r\n`).join(""));
  const responses = [await client.response(), await client.response(), await client.response()];
  assert.deepEqual(responses.map((r) => fieldValue(r, "connection")), [
    undefined,
    undefined,
    "close",
  ]);
  assert.equal(await client.untilClosed(), "", "the 4th request is not answered");
});

Deno.test("engine: --keepalive-timeout closes an idle persistent connection", async () => {
  await using engine = startEngine(() => new Response("x"), { keepaliveTimeout: 300 });
  await using client = await RawClient.connect(engine.port);
  await client.write(GET);
  await client.response();
  const idleSince = Date.now();
  assert.equal(await client.untilClosed(3000), "", "closed without another response");
  const idle = client.eofAt - idleSince;
  assert.ok(idle >= 200 && idle < 2000, `closed after ${idle} ms`);
});

Deno.test("engine: an app slower than the header and keep-alive timeouts, within --timeout, gets its response out", async () => {
  await using engine = startEngine(async () => {
    await sleep(600);
    return new Response("slow but fine");
  }, { timeout: 2000, keepaliveTimeout: 200, headerTimeout: 200 });
  const [response] = await exchange(engine.port, GET);
  assert.equal(response.body, "slow but fine");
});

Deno.test("engine: --timeout closes a connection whose body stalls", async () => {
  const failed = Promise.withResolvers<string>();
  await using engine = startEngine(async (request) => {
    try {
      await request.text();
      failed.resolve("read the body");
    } catch (error) {
      failed.resolve((error as Error).name);
    }
    return new Response("x");
  }, { timeout: 300 });
  await using client = await RawClient.connect(engine.port);
  const sent = Date.now();
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`);
  assert.equal(await within(3000, failed.promise, "the body read to fail"), "TypeError");
  await client.untilClosed(3000);
  const waited = client.eofAt - sent;
  assert.ok(waited >= 200 && waited < 2500, `closed after ${waited} ms`);
});

Deno.test("engine: --timeout closes a connection whose client stops reading, cancelling the stream", async () => {
  const cancelled = Promise.withResolvers<number>();
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  await using engine = startEngine(() =>
    new Response(
      new ReadableStream({
        pull: (c) => c.enqueue(chunk),
        cancel: () => cancelled.resolve(Date.now()),
      }),
    ), { timeout: 300 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: engine.port });
  try {
    await conn.write(encoder.encode(GET));
    // Never read: the socket buffers fill, the server's write blocks, the timeout must end it.
    const at = await within(8000, cancelled.promise, "the response stream to be cancelled");
    assert.ok(at > 0);
  } finally {
    conn.close();
  }
});

Deno.test("engine: --header-timeout cuts off a byte-a-second slowloris with 408 (defect 12)", async () => {
  await using engine = startEngine(() => new Response("x"), { headerTimeout: 600, timeout: 5000 });
  await using client = await RawClient.connect(engine.port);
  const started = Date.now();
  const head = `GET / HTTP/1.1\r\n${H}X-Slow: ${"z".repeat(100)}\r\n\r\n`;
  // Each byte comes well within --timeout, so only a total deadline can stop this.
  for (let i = 0; i < head.length && !client.eof; i++) {
    await client.write(head[i]).catch(() => {});
    await sleep(50);
  }
  const response = await client.response(3000);
  assert.equal(response.status, 408);
  assert.equal(fieldValue(response, "connection"), "close");
  await client.untilClosed(3000);
  const took = client.eofAt - started;
  assert.ok(took >= 500 && took < 2500, `cut off after ${took} ms`);
});

Deno.test("engine: a connection that never sends anything is closed without a response", async () => {
  await using engine = startEngine(() => new Response("x"), { headerTimeout: 300, timeout: 5000 });
  await using client = await RawClient.connect(engine.port);
  const started = Date.now();
  assert.equal(await client.untilClosed(3000), "");
  const took = client.eofAt - started;
  assert.ok(took >= 200 && took < 2500, `closed after ${took} ms`);
});

Deno.test("engine: --timeout applies to each read of a head, with 408 if something was sent", async () => {
  await using engine = startEngine(() => new Response("x"), {
    headerTimeout: 10_000,
    timeout: 300,
  });
  await using client = await RawClient.connect(engine.port);
  await client.write("GET / HT");
  const response = await client.response(3000);
  assert.equal(response.status, 408);
  await client.untilClosed(3000);
});

Deno.test("engine: the header timeout also bounds the next head on a persistent connection", async () => {
  await using engine = startEngine(() => new Response("x"), {
    headerTimeout: 500,
    keepaliveTimeout: 5000,
    timeout: 5000,
  });
  await using client = await RawClient.connect(engine.port);
  await client.write(GET);
  assert.equal((await client.response()).status, 200);
  const started = Date.now();
  for (const c of `GET / HTTP/1.1\r\n${H}`) {
    if (client.eof) break;
    await client.write(c).catch(() => {});
    await sleep(50);
  }
  const response = await client.response(3000);
  assert.equal(response.status, 408);
  const took = Date.now() - started;
  assert.ok(took >= 400 && took < 2500, `cut off after ${took} ms`);
});

Deno.test("engine: a client disconnect aborts request.signal", async () => {
  const aborted = Promise.withResolvers<string>();
  await using engine = startEngine(async (request) => {
    if (path(request) === "/next") return new Response("next");
    await new Promise<void>((resolve) => {
      request.signal.addEventListener("abort", () => {
        aborted.resolve(String((request.signal.reason as Error)?.name));
        resolve();
      });
      setTimeout(resolve, 3000);
    });
    return new Response("too late");
  });
  const client = await RawClient.connect(engine.port);
  await client.write(GET);
  await sleep(50);
  await client[Symbol.asyncDispose]();
  assert.equal(await within(2000, aborted.promise, "request.signal to abort"), "AbortError");
  // The server goes on.
  assert.equal((await exchange(engine.port, `GET /next HTTP/1.1\r\n${H}\r\n`))[0].body, "next");
});

Deno.test("engine: a client disconnect mid-response cancels the stream and aborts the signal", async () => {
  const cancelled = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  let ticks = 0;
  await using engine = startEngine((request) => {
    request.signal.addEventListener("abort", () => aborted.resolve());
    return path(request) === "/x" ? new Response("other") : new Response(
      new ReadableStream({
        async pull(controller) {
          await sleep(20);
          controller.enqueue(encoder.encode(`data: ${ticks++}\n\n`));
        },
        cancel: () => cancelled.resolve(),
      }),
      { headers: { "Content-Type": "text/event-stream" } },
    );
  });
  const client = await RawClient.connect(engine.port);
  await client.write(GET);
  await client.untilReceived("data: 1\n\n", 2000);
  await client[Symbol.asyncDispose]();
  await within(3000, cancelled.promise, "the stream to be cancelled");
  await within(1000, aborted.promise, "request.signal to abort");
  const after = ticks;
  await sleep(100);
  assert.ok(ticks <= after + 1, "the stream is no longer pulled");
  assert.equal((await exchange(engine.port, `GET /x HTTP/1.1\r\n${H}\r\n`))[0].body, "other");
});

Deno.test("engine: a failing app on one connection does not disturb another", async () => {
  await using engine = startEngine((request) => {
    if (path(request) === "/boom") throw new Error("boom");
    return new Response(path(request));
  });
  await using steady = await RawClient.connect(engine.port);
  await steady.write(`GET /a HTTP/1.1\r\n${H}\r\n`);
  assert.equal((await steady.response()).body, "/a");
  const [boom] = await exchange(engine.port, `GET /boom HTTP/1.1\r\n${H}\r\n`, 1, {
    expectClose: true,
  });
  assert.equal(boom.status, 500);
  await steady.write(`GET /b HTTP/1.1\r\n${H}\r\n`);
  assert.equal((await steady.response()).body, "/b");
});

Deno.test("engine: garbage and a slowloris on other connections do not delay a client", async () => {
  await using engine = startEngine(() => new Response("prompt"), { headerTimeout: 3000 });
  await using garbage = await RawClient.connect(engine.port);
  await using slow = await RawClient.connect(engine.port);
  await garbage.write(new Uint8Array(2000).map((_, i) => (i * 37) & 0xff));
  await slow.write("GET / HTTP/1.1\r\nHo");
  const started = Date.now();
  for (let i = 0; i < 5; i++) {
    const [response] = await exchange(engine.port, GET);
    assert.equal(response.body, "prompt");
  }
  assert.ok(Date.now() - started < 1000, "five requests answered promptly");
  await garbage.untilClosed(2000);
  assert.ok(!slow.eof, "the slow client is still being waited for");
});

Deno.test("engine: noise on many connections never breaks the server (fuzz)", async () => {
  await using engine = startEngine(async (request) => {
    const body = request.body === null ? "" : await request.text();
    return new Response(`${request.method} ${body.length}`);
  }, { headerTimeout: 300, timeout: 300, keepaliveTimeout: 300, maxRequestBody: 1000 });
  const valid = [
    GET,
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`,
    `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    `HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
    `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz`,
  ];
  const piece = fc.oneof(
    fc.constantFrom(...valid),
    fc.constantFrom(
      "\r\n",
      "\n",
      " ",
      ":",
      "0\r\n\r\n",
      "ffffffff\r\n",
      "Content-Length: 9\r\n",
      "\x00",
    ),
    fc.uint8Array({ maxLength: 40 }).map((b) => String.fromCharCode(...b)),
  );
  const input = fc.array(piece, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(""));
  const samples = fc.sample(input, { numRuns: 60, seed: 20261121 });
  for (let i = 0; i < samples.length; i += 10) {
    await Promise.all(
      samples.slice(i, i + 10).map(async (text) => {
        await using client = await RawClient.connect(engine.port);
        await client.write(text).catch(() => {});
        await client.until(() => client.eof, 1500);
      }),
    );
  }
  const [response] = await exchange(engine.port, GET);
  assert.equal(response.body, "GET 0");
  assert.deepEqual(engine.warnings.filter((w) => w.startsWith("connection failed")), []);
});

Deno.test("engine: connections leaving in any order are counted right, and the rest still time out", async () => {
  await using engine = startEngine(() => new Response("x"), { keepaliveTimeout: 400 });
  const clients = [];
  for (let i = 0; i < 5; i++) {
    const client = await RawClient.connect(engine.port);
    await client.write(GET);
    await client.response();
    clients.push(client);
  }
  assert.equal(engine.server.connections, 5);
  // The first, the middle and the last leave: each removal moves another into its place.
  for (const i of [0, 2, 4]) clients[i].close();
  const until = Date.now() + 2000;
  while (engine.server.connections > 2 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(engine.server.connections, 2);
  // The two left are still swept: both are closed by the keep-alive timeout.
  for (const i of [1, 3]) assert.equal(await clients[i].untilClosed(3000), "");
  while (engine.server.connections > 0 && Date.now() < until + 3000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(engine.server.connections, 0);
});
