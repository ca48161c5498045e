/**
 * Black-box tests of responses over a socket: status line, fields, framing (Content-Length,
 * chunked, close-delimited), HEAD/204/304, streaming, and app failures.
 */
import assert from "node:assert/strict";
import {
  exchange,
  fieldValue,
  fieldValues,
  RawClient,
  sleep,
  startEngine,
  within,
} from "../_helpers/engine_harness.ts";

const H = "Host: example.com\r\n";
const encoder = new TextEncoder();
const GET = `GET / HTTP/1.1\r\n${H}\r\n`;
const path = (request: Request) => new URL(request.url).pathname;

/** A stream of `parts`, with a pause before each part after the first. */
function slowStream(parts: (string | Uint8Array)[], pauseMs = 10): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async start(controller) {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await sleep(pauseMs);
        const part = parts[i];
        controller.enqueue(typeof part === "string" ? encoder.encode(part) : part);
      }
      controller.close();
    },
  });
}

Deno.test("engine: the status line is in the request's HTTP version (defect 7)", async () => {
  await using engine = startEngine(() => new Response("x", { status: 404 }));
  const [ten] = await exchange(engine.port, "GET / HTTP/1.0\r\n\r\n");
  assert.ok(ten.raw.startsWith("HTTP/1.0 404 Not Found\r\n"));
  const [eleven] = await exchange(engine.port, GET);
  assert.ok(eleven.raw.startsWith("HTTP/1.1 404 Not Found\r\n"));
});

Deno.test("engine: reason phrases come from node:http, whatever statusText says", async () => {
  let status = 418;
  await using engine = startEngine(() => new Response(null, { status, statusText: "Whatever" }));
  assert.equal(
    (await exchange(engine.port, GET))[0].head.split("\r\n")[0],
    "HTTP/1.1 418 I'm a Teapot",
  );
  status = 599;
  assert.equal((await exchange(engine.port, GET))[0].head.split("\r\n")[0], "HTTP/1.1 599 ");
});

Deno.test("engine: every Set-Cookie is its own field line", async () => {
  await using engine = startEngine(() => {
    const headers = new Headers();
    headers.append("Set-Cookie", "a=1; Path=/");
    headers.append("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
    return new Response("x", { headers });
  });
  const [response] = await exchange(engine.port, GET);
  assert.deepEqual(fieldValues(response, "set-cookie"), [
    "a=1; Path=/",
    "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
  ]);
});

Deno.test("engine: a CRLF injection attempt fails in the app and is a 500 (defect 7)", async () => {
  await using engine = startEngine((request) =>
    new Response("x", { headers: { "X-Echo": new URL(request.url).searchParams.get("v")! } })
  );
  const [response] = await exchange(
    engine.port,
    `GET /?v=a%0D%0ASet-Cookie:%20evil=1 HTTP/1.1\r\n${H}\r\n`,
  );
  assert.equal(response.status, 500);
  assert.equal(fieldValue(response, "set-cookie"), undefined);
  assert.ok(!response.raw.includes("evil"));
});

Deno.test("engine: Date and Server are added unless the app set them", async () => {
  let own = false;
  await using engine = startEngine(() =>
    new Response("x", {
      headers: own ? { Date: "Thu, 01 Jan 1970 00:00:00 GMT", Server: "mine" } : {},
    })
  );
  const [added] = await exchange(engine.port, GET);
  assert.equal(fieldValue(added, "server"), "Starlight/test");
  assert.ok(Math.abs(Date.parse(fieldValue(added, "date")!) - Date.now()) < 3000);
  own = true;
  const [kept] = await exchange(engine.port, GET);
  assert.equal(fieldValue(kept, "server"), "mine");
  assert.equal(fieldValue(kept, "date"), "Thu, 01 Jan 1970 00:00:00 GMT");
});

Deno.test("engine: a body of known length is sent with Content-Length", async () => {
  const bodies: (() => BodyInit)[] = [
    () => "hello",
    () => encoder.encode("hello"),
    () => slowStream(["hello"]),
  ];
  let i = 0;
  await using engine = startEngine(() => new Response(bodies[i]()));
  for (i = 0; i < bodies.length; i++) {
    const [response] = await exchange(engine.port, GET);
    assert.equal(fieldValue(response, "content-length"), "5", `body ${i}`);
    assert.equal(fieldValue(response, "transfer-encoding"), undefined);
    assert.equal(response.rawBody, "hello");
  }
});

Deno.test("engine: an HTTP/1.1 stream is chunked, byte for byte", async () => {
  await using engine = startEngine(() => new Response(slowStream(["abc", "defghijklmnopqr"])));
  const [response] = await exchange(engine.port, GET);
  assert.equal(fieldValue(response, "transfer-encoding"), "chunked");
  assert.equal(fieldValue(response, "content-length"), undefined);
  assert.equal(response.rawBody, "3\r\nabc\r\nf\r\ndefghijklmnopqr\r\n0\r\n\r\n");
});

Deno.test("engine: an HTTP/1.0 stream is close-delimited", async () => {
  await using engine = startEngine(() => new Response(slowStream(["abc", "def"])));
  await using client = await RawClient.connect(engine.port);
  await client.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const response = await client.response();
  assert.equal(response.closeDelimited, true);
  assert.equal(response.body, "abcdef");
  assert.equal(fieldValue(response, "content-length"), undefined);
  assert.equal(fieldValue(response, "transfer-encoding"), undefined);
  assert.equal(fieldValue(response, "connection"), "close");
});

Deno.test("engine: a stream with the app's Content-Length is sent with that length", async () => {
  await using engine = startEngine(() =>
    new Response(slowStream(["abc", "def"]), { headers: { "Content-Length": "6" } })
  );
  const [response, next] = await exchange(engine.port, GET + GET, 2);
  assert.equal(fieldValue(response, "content-length"), "6");
  assert.equal(fieldValue(response, "transfer-encoding"), undefined);
  assert.equal(response.rawBody, "abcdef");
  assert.equal(next.rawBody, "abcdef");
});

Deno.test("engine: an empty body is Content-Length: 0, never a doubled terminator (defect 7)", async () => {
  const bodies: (() => BodyInit | null)[] = [
    () => null,
    () => "",
    () => new ReadableStream({ start: (c) => c.close() }),
    () => slowStream([new Uint8Array(0)]),
  ];
  let i = 0;
  await using engine = startEngine(() => new Response(bodies[i]()));
  for (i = 0; i < bodies.length; i++) {
    const [response, next] = await exchange(engine.port, GET + GET, 2);
    assert.equal(fieldValue(response, "content-length"), "0", `body ${i}`);
    assert.equal(response.rawBody, "");
    assert.ok(next.raw.startsWith("HTTP/1.1 200 OK\r\n"), `body ${i}: ${JSON.stringify(next.raw)}`);
  }
});

Deno.test("engine: empty chunks of a stream are not written as chunks", async () => {
  const empty = new Uint8Array(0);
  await using engine = startEngine(() =>
    new Response(slowStream([empty, "ab", empty, "cd", empty]))
  );
  const [response, next] = await exchange(engine.port, GET + GET, 2);
  assert.equal(response.rawBody, "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n");
  assert.equal(next.status, 200);
});

Deno.test("engine: HEAD gets the GET's headers and no body (defect 7)", async () => {
  await using engine = startEngine(() => new Response("hello world", { headers: { "X-A": "1" } }));
  const [head, get] = await exchange(engine.port, `HEAD / HTTP/1.1\r\n${H}\r\n` + GET, 2, {
    noBody: [true, false],
  });
  assert.equal(fieldValue(head, "content-length"), "11");
  assert.equal(fieldValue(head, "x-a"), "1");
  assert.equal(head.rawBody, "");
  // The GET's response starts right after the HEAD's head: no body bytes came between.
  assert.ok(get.raw.startsWith("HTTP/1.1 200 OK\r\n"));
  assert.equal(get.body, "hello world");
});

Deno.test("engine: HEAD of a stream says chunked and sends nothing after the head", async () => {
  const cancelled = Promise.withResolvers<void>();
  await using engine = startEngine((request) => {
    if (request.method === "GET") return new Response("next");
    return new Response(
      new ReadableStream({
        pull: (c) => c.enqueue(encoder.encode("tick")),
        cancel: () => cancelled.resolve(),
      }),
    );
  });
  const [head, get] = await exchange(engine.port, `HEAD / HTTP/1.1\r\n${H}\r\n` + GET, 2, {
    noBody: [true, false],
  });
  assert.equal(fieldValue(head, "transfer-encoding"), "chunked");
  assert.equal(get.body, "next");
  await within(1000, cancelled.promise, "the HEAD's stream to be cancelled");
});

Deno.test("engine: 204 and 304 never carry a body, a length or chunking", async () => {
  await using engine = startEngine((request) =>
    new Response(null, {
      status: request.url.endsWith("/204") ? 204 : 304,
      headers: { ETag: '"x"' },
    })
  );
  const [r204, r304, next] = await exchange(
    engine.port,
    `GET /204 HTTP/1.1\r\n${H}\r\nGET /304 HTTP/1.1\r\n${H}\r\nGET /204 HTTP/1.1\r\n${H}\r\n`,
    3,
  );
  for (const response of [r204, r304]) {
    assert.equal(fieldValue(response, "transfer-encoding"), undefined);
    assert.equal(response.rawBody, "");
  }
  assert.equal(fieldValue(r204, "content-length"), undefined);
  assert.equal(fieldValue(r304, "etag"), '"x"');
  assert.ok(next.raw.startsWith("HTTP/1.1 204 No Content\r\n"));
});

Deno.test("engine: a streamed event is delivered as soon as it is produced (SSE)", async () => {
  const release = Promise.withResolvers<void>();
  await using engine = startEngine(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("data: one\n\n"));
          await release.promise;
          controller.enqueue(encoder.encode("data: two\n\n"));
          controller.close();
        },
      }),
      { headers: { "Content-Type": "text/event-stream" } },
    )
  );
  await using client = await RawClient.connect(engine.port);
  await client.write(GET);
  // The second event is held back until the first has been seen by the client.
  await client.untilReceived("data: one\n\n", 1000);
  assert.ok(!client.received.includes("two"));
  release.resolve();
  const response = await client.response();
  assert.equal(response.body, "data: one\n\ndata: two\n\n");
});

Deno.test("engine: a 1 MiB body arrives intact", async () => {
  const body = new Uint8Array(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 10)) & 0xff;
  await using engine = startEngine(() => new Response(body));
  const [response] = await exchange(engine.port, GET);
  assert.equal(fieldValue(response, "content-length"), String(body.length));
  assert.equal(response.body.length, body.length);
  for (let i = 0; i < body.length; i += 4093) assert.equal(response.body.charCodeAt(i), body[i]);
});

// -------------------------------------------------------------------------------------------------
// App failures

Deno.test("engine: an app that throws gets a plain 500 without its stack, and a close", async () => {
  await using engine = startEngine(() => {
    throw new Error("secret detail");
  });
  const [response] = await exchange(engine.port, GET, 1, { expectClose: true });
  assert.equal(response.status, 500);
  assert.equal(response.body, "Internal Server Error\n");
  assert.equal(fieldValue(response, "connection"), "close");
  assert.ok(fieldValue(response, "content-type")!.startsWith("text/plain"));
  assert.equal(engine.warnings.length, 1);
});

Deno.test("engine: in development the 500 shows the stack", async () => {
  await using engine = startEngine(() => {
    throw new Error("visible detail");
  }, { development: true });
  const [response] = await exchange(engine.port, GET);
  assert.equal(response.status, 500);
  assert.match(response.body, /Error: visible detail\n\s+at /);
});

Deno.test("engine: an app that returns something other than a Response gets a 500", async () => {
  const values: unknown[] = [undefined, "text", { status: 200 }, null];
  let i = 0;
  await using engine = startEngine(() => values[i] as Response);
  for (i = 0; i < values.length; i++) {
    const [response] = await exchange(engine.port, GET);
    assert.equal(response.status, 500, `value ${i}`);
  }
});

Deno.test("engine: an async app that rejects gets a 500", async () => {
  await using engine = startEngine(async () => {
    await sleep(5);
    throw new RangeError("late");
  });
  assert.equal((await exchange(engine.port, GET))[0].status, 500);
});

Deno.test("engine: a body stream failing before its first chunk is a 500", async () => {
  await using engine = startEngine(() =>
    new Response(new ReadableStream({ pull: () => Promise.reject(new Error("no data")) }))
  );
  const [response] = await exchange(engine.port, GET, 1, { expectClose: true });
  assert.equal(response.status, 500);
});

Deno.test("engine: a body stream failing after the response started closes the connection", async () => {
  await using engine = startEngine(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("partial"));
          await sleep(20);
          controller.error(new Error("broken"));
        },
      }),
    )
  );
  await using client = await RawClient.connect(engine.port);
  await client.write(GET + GET);
  const raw = await client.untilClosed();
  assert.ok(raw.startsWith("HTTP/1.1 200 OK\r\n"));
  assert.ok(raw.endsWith("7\r\npartial\r\n"), JSON.stringify(raw));
  // No terminator: the client can tell the body is incomplete; the second GET is not answered.
  assert.equal(raw.split("HTTP/1.1").length, 2);
});

Deno.test("engine: headers changed after the Response was built are the ones sent", async () => {
  await using engine = startEngine(() => {
    const response = new Response("x", { headers: { "X-Keep": "1", "X-Gone": "d" } });
    response.headers.set("X-Added", "2");
    response.headers.delete("x-gone");
    response.headers.set("content-type", "text/html");
    return response;
  });
  const [response] = await exchange(engine.port, GET);
  assert.deepEqual(fieldValues(response, "x-keep"), ["1"]);
  assert.deepEqual(fieldValues(response, "x-added"), ["2"]);
  assert.deepEqual(fieldValues(response, "x-gone"), []);
  assert.deepEqual(fieldValues(response, "content-type"), ["text/html"]);
});

Deno.test("engine: Response.json and redirects are framed like any body", async () => {
  await using engine = startEngine((request) =>
    path(request) === "/json"
      ? Response.json({ a: "é" }, { status: 201 })
      : Response.redirect("http://example.com/there", 307)
  );
  const [json, redirect] = await exchange(
    engine.port,
    `GET /json HTTP/1.1\r\n${H}\r\nGET /r HTTP/1.1\r\n${H}\r\n`,
    2,
  );
  assert.equal(json.status, 201);
  assert.equal(fieldValue(json, "content-type"), "application/json");
  assert.equal(fieldValue(json, "content-length"), "10");
  assert.equal(
    new TextDecoder().decode(Uint8Array.from(json.body, (c) => c.charCodeAt(0))),
    '{"a":"é"}',
  );
  assert.equal(redirect.status, 307);
  assert.equal(fieldValue(redirect, "location"), "http://example.com/there");
  assert.equal(fieldValue(redirect, "content-length"), "0");
});

Deno.test("engine: a Content-Type given alone, or with a null or byte body, goes out", async () => {
  await using engine = startEngine((request) => {
    switch (path(request)) {
      case "/alone":
        return new Response("{}", { headers: { "content-type": "application/json" } });
      case "/null":
        return new Response(null, { status: 201, headers: { "content-type": "a/b" } });
      default:
        return new Response(new Uint8Array([1, 2]), { headers: { "Content-Type": "c/d" } });
    }
  });
  const [alone, none, bytes] = await exchange(
    engine.port,
    `GET /alone HTTP/1.1\r\n${H}\r\nGET /null HTTP/1.1\r\n${H}\r\nGET /bytes HTTP/1.1\r\n${H}\r\n`,
    3,
  );
  assert.deepEqual(fieldValues(alone, "content-type"), ["application/json"]);
  assert.deepEqual(fieldValues(none, "content-type"), ["a/b"]);
  assert.equal(fieldValue(none, "content-length"), "0");
  assert.deepEqual(fieldValues(bytes, "content-type"), ["c/d"]);
  assert.equal(fieldValue(bytes, "content-length"), "2");
});

Deno.test("engine: an app returning Response.error() gets a 500", {}, async () => {
  await using engine = startEngine(() => Response.error());
  const [response] = await exchange(engine.port, GET, 1, { expectClose: true });
  assert.equal(response.status, 500);
});

Deno.test(
  "engine: an app returning a Response whose body was already used gets a 500",
  {},
  async () => {
    await using engine = startEngine(async () => {
      const response = new Response("already read");
      await response.text();
      return response;
    });
    const [response] = await exchange(engine.port, GET, 1, { expectClose: true });
    assert.equal(response.status, 500);
  },
);

Deno.test("engine: chunks of 64 KiB and more keep their framing, in order with small ones", async () => {
  const big = new Uint8Array(100 * 1024).fill(0x61);
  await using engine = startEngine(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("head-"));
          controller.enqueue(big);
          controller.enqueue(new TextEncoder().encode("-middle-"));
          controller.enqueue(big);
          controller.enqueue(new TextEncoder().encode("-tail"));
          controller.close();
        },
      }),
    )
  );
  const [response] = await exchange(engine.port, `GET / HTTP/1.1\r\n${H}\r\n`, 1, { ms: 10_000 });
  const a = "a".repeat(big.length);
  assert.equal(fieldValue(response, "transfer-encoding"), "chunked");
  assert.equal(response.body, `head-${a}-middle-${a}-tail`);
});

Deno.test("engine: a stream's ready chunks share writes of one output buffer each, in order", async () => {
  const chunks = Array.from({ length: 100 }, (_, i) => String(i % 10).repeat(1024));
  await using engine = startEngine(() => {
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode(chunks[sent]));
          if (++sent === chunks.length) controller.close();
        },
      }),
    );
  });
  const [response] = await exchange(engine.port, `GET / HTTP/1.1\r\n${H}\r\n`, 1, { ms: 10_000 });
  assert.equal(response.body, chunks.join(""));
  const writes = engine.writes[0];
  // 100 KiB and its framing: coalesced (not a write per chunk), and never grown past the
  // 16 KiB output buffer (not one large write).
  assert.ok(writes.length >= 7 && writes.length <= 12, `${writes.length} writes`);
  assert.ok(Math.max(...writes) <= 16 * 1024, `largest write ${Math.max(...writes)}`);
});

Deno.test("engine: a body under 256 KiB goes out with its head in one write, a larger one after it", async () => {
  const sizes = [100 * 1024, 300 * 1024];
  await using engine = startEngine((request) =>
    new Response("x".repeat(sizes[Number(path(request).slice(1))]))
  );
  for (const [i, size] of sizes.entries()) {
    const [response] = await exchange(engine.port, `GET /${i} HTTP/1.1\r\n${H}\r\n`, 1, {
      ms: 10_000,
    });
    assert.equal(response.body.length, size);
  }
  const [small, large] = engine.writes;
  assert.equal(small.length, 1, `100 KiB: ${small.join(", ")}`);
  assert.ok(small[0] > 100 * 1024);
  assert.ok(large.length >= 2 && large.at(-1)! <= 300 * 1024, `300 KiB: ${large.join(", ")}`);
});
