/**
 * Black-box tests of request bodies over a socket: Content-Length and chunked framing, the
 * smuggling defences, size limits, streaming to the app, pipelining after bodies, and
 * `Expect: 100-continue`.
 */
import assert from "node:assert/strict";
import {
  exchange,
  expectRefusal,
  fieldValue,
  RawClient,
  recorder,
  startEngine,
  within,
} from "../_helpers/engine_harness.ts";

const H = "Host: example.com\r\n";
const decoder = new TextDecoder("latin1");

/** Echoes method, path and body text. */
async function echo(request: Request): Promise<Response> {
  const body = request.body === null ? "" : await request.text();
  return new Response(`${request.method} ${new URL(request.url).pathname} [${body}]`);
}

Deno.test("engine: a Content-Length body reaches the app exactly", async () => {
  await using engine = startEngine(echo);
  const [response] = await exchange(
    engine.port,
    `POST /u HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\nhello world`,
  );
  assert.equal(response.body, "POST /u [hello world]");
});

Deno.test("engine: the body is a stream the app reads before it has all arrived", async () => {
  const first = Promise.withResolvers<string>();
  await using engine = startEngine(async (request) => {
    assert.ok(request.body instanceof ReadableStream);
    const reader = request.body.getReader();
    const chunk = await reader.read();
    first.resolve(decoder.decode(chunk.value));
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += decoder.decode(r.value);
    }
    return new Response(`${decoder.decode(chunk.value)}|${rest}`);
  });
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nhello`);
  assert.equal(await within(2000, first.promise, "the first body chunk"), "hello");
  await client.write("world");
  assert.equal((await client.response()).body, "hello|world");
});

Deno.test("engine: a chunked body is decoded, extensions and trailers dropped", async () => {
  await using engine = startEngine(echo);
  const [response] = await exchange(
    engine.port,
    `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n` +
      `5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n`,
  );
  assert.equal(response.body, "POST /c [hello world]");
});

Deno.test("engine: a chunked body streams chunk by chunk", async () => {
  const first = Promise.withResolvers<string>();
  await using engine = startEngine(async (request) => {
    const reader = request.body!.getReader();
    const chunk = await reader.read();
    first.resolve(decoder.decode(chunk.value));
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += decoder.decode(r.value);
    }
    return new Response(`${decoder.decode(chunk.value)}|${rest}`);
  });
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`);
  assert.equal(await within(2000, first.promise, "the first chunk"), "abc");
  await client.write("2\r\nde\r\n0\r\n\r\n");
  assert.equal((await client.response()).body, "abc|de");
});

Deno.test("engine: Transfer-Encoding with Content-Length is 400, never framed by either (defect 5)", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  // Framed by Content-Length, the body would end before "GET /smuggled".
  const smuggle = `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n` +
    `0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`;
  await expectRefusal(engine.port, smuggle, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: differing Content-Length values are 400 (defect 5)", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    400,
  );
  await expectRefusal(engine.port, `POST / HTTP/1.1\r\n${H}Content-Length: 3, 4\r\n\r\nabcd`, 400);
  assert.equal(seen.length, 0);
});

Deno.test("engine: an invalid Content-Length is 400 (defect 5)", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  for (const value of ["abc", "-1", "+3", "3 3", "0x3", ""]) {
    await expectRefusal(
      engine.port,
      `POST / HTTP/1.1\r\n${H}Content-Length: ${value}\r\n\r\nabc`,
      400,
    );
  }
  assert.equal(seen.length, 0);
});

Deno.test("engine: a transfer coding other than chunked is 501", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`,
    501,
  );
  assert.equal(seen.length, 0);
});

Deno.test("engine: a Content-Length over --max-request-body is 413 before the app runs", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler, { maxRequestBody: 10 });
  await expectRefusal(engine.port, `POST / HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\n`, 413);
  const [ok] = await exchange(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n0123456789`,
  );
  assert.equal(ok.status, 200);
  assert.equal(seen.length, 1);
});

Deno.test("engine: a chunked body growing over --max-request-body is 413", async () => {
  await using engine = startEngine(echo, { maxRequestBody: 10 });
  await using client = await RawClient.connect(engine.port);
  await client.write(
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n`,
  );
  const response = await client.response();
  assert.equal(response.status, 413);
  assert.equal(fieldValue(response, "connection"), "close");
  await client.untilClosed();
});

Deno.test("engine: a malformed chunked body is 400 to an app that reads it", async () => {
  await using engine = startEngine(echo);
  await using client = await RawClient.connect(engine.port);
  await client.write(
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n`,
  );
  const response = await client.response();
  assert.equal(response.status, 400);
  assert.equal(fieldValue(response, "connection"), "close");
  await client.untilClosed();
});

Deno.test("engine: bytes after a Content-Length body are the next request (defect 5)", async () => {
  await using engine = startEngine(echo);
  const [first, second] = await exchange(
    engine.port,
    `POST /1 HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n${H}\r\n`,
    2,
  );
  assert.equal(first.body, "POST /1 [hello]");
  assert.equal(second.body, "GET /2 []");
});

Deno.test("engine: pipelined requests of every method are all answered, in order (defect 5)", async () => {
  await using engine = startEngine(echo);
  const requests = [
    `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`,
    `PUT /b HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n`,
    `DELETE /c HTTP/1.1\r\n${H}\r\n`,
    `PATCH /d HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\nf`,
    `OPTIONS /e HTTP/1.1\r\n${H}\r\n`,
    `HEAD /f HTTP/1.1\r\n${H}\r\n`,
    `GET /g HTTP/1.1\r\n${H}\r\n`,
    `POST /h HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`,
  ];
  const responses = await exchange(engine.port, requests.join(""), requests.length, {
    noBody: [false, false, false, false, false, true, false, false],
  });
  assert.deepEqual(responses.map((r) => r.body), [
    "POST /a [abc]",
    "PUT /b [de]",
    "DELETE /c []",
    "PATCH /d [f]",
    "OPTIONS /e []",
    "",
    "GET /g []",
    "POST /h []",
  ]);
});

Deno.test("engine: a small body the app did not read is skipped; the connection goes on", async () => {
  await using engine = startEngine((request) => new Response(new URL(request.url).pathname));
  const [first, second] = await exchange(
    engine.port,
    `POST /1 HTTP/1.1\r\n${H}Content-Length: 1000\r\n\r\n${
      "x".repeat(1000)
    }GET /2 HTTP/1.1\r\n${H}\r\n`,
    2,
  );
  assert.equal(fieldValue(first, "connection"), undefined);
  assert.deepEqual([first.body, second.body], ["/1", "/2"]);
});

Deno.test("engine: a large body the app did not read ends the connection after the response", async () => {
  await using engine = startEngine(() => new Response("no thanks"));
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 10000000\r\n\r\n${"x".repeat(1000)}`);
  const response = await client.response();
  assert.equal(response.body, "no thanks");
  assert.equal(fieldValue(response, "connection"), "close");
  await client.untilClosed();
});

Deno.test("engine: a client leaving mid-body fails the app's read; the server goes on", async () => {
  const failure = Promise.withResolvers<string>();
  await using engine = startEngine(async (request) => {
    try {
      await request.text();
      failure.resolve("read succeeded");
    } catch (error) {
      failure.resolve((error as Error).name);
    }
    return new Response("late");
  });
  const client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nonly some`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await client[Symbol.asyncDispose]();
  assert.equal(await within(2000, failure.promise, "the app's read to fail"), "TypeError");
  const [after] = await exchange(engine.port, `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`);
  assert.equal(after.status, 200);
});

// -------------------------------------------------------------------------------------------------
// Expect: 100-continue

/** An app that reads the body only once `go` resolves. */
function lateReader(go: Promise<void>) {
  return async (request: Request) => {
    await go;
    return new Response(`got [${await request.text()}]`);
  };
}

Deno.test("engine: 100 Continue is sent when the app starts reading, not before (defect 6)", async () => {
  const go = Promise.withResolvers<void>();
  await using engine = startEngine(lateReader(go.promise));
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`);
  assert.ok(await client.quietFor(300), "nothing before the app reads");
  go.resolve();
  // The client waits for it before sending the body: it must come without the body.
  await client.untilReceived("HTTP/1.1 100 Continue\r\n\r\n", 2000);
  assert.equal(client.received, "HTTP/1.1 100 Continue\r\n\r\n");
  await client.write("hello");
  assert.equal((await client.response()).status, 100);
  const final = await client.response();
  assert.equal(final.status, 200);
  assert.equal(final.body, "got [hello]");
});

Deno.test("engine: Expect: 100-Continue in another case is honoured, not 417 (defect 6)", async () => {
  await using engine = startEngine(lateReader(Promise.resolve()));
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Expect: 100-Continue\r\nContent-Length: 2\r\n\r\n`);
  await client.untilReceived("HTTP/1.1 100 Continue\r\n\r\n", 2000);
  await client.write("hi");
  assert.equal((await client.response()).status, 100);
  assert.equal((await client.response()).body, "got [hi]");
});

Deno.test("engine: no 100 Continue when the app answers without reading the body", async () => {
  await using engine = startEngine(() => new Response("denied", { status: 403 }));
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`);
  const response = await client.response();
  assert.equal(response.status, 403);
  assert.ok(client.received.startsWith("HTTP/1.1 403 "));
  // The client may still send the body, so the connection cannot be reused.
  assert.equal(fieldValue(response, "connection"), "close");
  await client.untilClosed();
  assert.ok(!client.received.includes("100 Continue"));
});

Deno.test("engine: no 100 Continue once the body has arrived anyway", async () => {
  await using engine = startEngine(lateReader(Promise.resolve()));
  const [response] = await exchange(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
  );
  assert.equal(response.status, 200);
  assert.equal(response.body, "got [hello]");
});

Deno.test("engine: another expectation is 417", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler);
  await expectRefusal(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 0\r\n\r\n`,
    417,
  );
  assert.equal(seen.length, 0);
});

Deno.test("engine: a body read straight from the socket stops at its end; the rest is the next request", async () => {
  const started = Promise.withResolvers<void>();
  await using engine = startEngine(async (request) => {
    if (request.method === "GET") return new Response("next " + new URL(request.url).pathname);
    started.resolve();
    return new Response(`[${await request.text()}]`);
  });
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 70000\r\n\r\n`);
  await within(2000, started.promise, "the app to start");
  // The body and the next request arrive together, after the app began reading.
  await client.write("b".repeat(70000) + `GET /after HTTP/1.1\r\n${H}\r\n`);
  const first = await client.response();
  assert.equal(first.body, `[${"b".repeat(70000)}]`);
  assert.equal((await client.response()).body, "next /after");
});

Deno.test("engine: Expect: 100-continue with a body over the limit gets 413 and no 100", async () => {
  const { handler, seen } = recorder();
  await using engine = startEngine(handler, { maxRequestBody: 100 });
  const response = await expectRefusal(
    engine.port,
    `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 101\r\n\r\n`,
    413,
  );
  assert.ok(response.raw.startsWith("HTTP/1.1 413 "));
  assert.equal(seen.length, 0);
});

Deno.test("engine: a client leaving mid-body aborts request.signal", {}, async () => {
  const aborted = Promise.withResolvers<void>();
  await using engine = startEngine(async (request) => {
    request.signal.addEventListener("abort", () => aborted.resolve());
    await request.text().catch(() => {});
    return new Response("late");
  });
  const client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nonly some`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await client[Symbol.asyncDispose]();
  await within(2000, aborted.promise, "request.signal to abort");
});

Deno.test("engine: text(), json(), bytes() and arrayBuffer() read the body as Deno's Request does", async () => {
  await using engine = startEngine(async (request) => {
    const kind = new URL(request.url).pathname.slice(1);
    const used = request.bodyUsed;
    let value: string;
    if (kind === "json") value = JSON.stringify(await request.json());
    else if (kind === "bytes") value = [...await request.bytes()].join(",");
    else if (kind === "buffer") {
      const buffer = await request.arrayBuffer();
      value = `${buffer instanceof ArrayBuffer} ${buffer.byteLength}`;
    } else value = JSON.stringify(await request.text());
    return new Response(`${used} ${request.bodyUsed} ${value}`);
  });
  const post = (path: string, body: string, framing = `Content-Length: ${body.length}\r\n`) =>
    `POST /${path} HTTP/1.1\r\n${H}${framing}\r\n${body}`;
  const responses = await exchange(
    engine.port,
    post("json", '{"a":[1,2]}') +
      post("bytes", "\x01\x02\xff") +
      post("buffer", "abcd") +
      post("text", "\xef\xbb\xbfbom kept") +
      post("text", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"),
    5,
  );
  assert.deepEqual(responses.map((r) => r.body), [
    'false true {"a":[1,2]}',
    "false true 1,2,255",
    "false true true 4",
    // The response is UTF-8 and read here byte by byte: the byte order mark is still there.
    'false true "\xef\xbb\xbfbom kept"',
    'false true "abcde"',
  ]);
});

Deno.test("engine: a body read twice, or after its stream was taken, is a TypeError; clone() too", async () => {
  await using engine = startEngine(async (request) => {
    const path = new URL(request.url).pathname;
    const outcome = async (read: () => unknown) => {
      try {
        await read();
        return "ok";
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    if (path === "/twice") {
      await request.text();
      return new Response(
        `${await outcome(() => request.text())} | ${await outcome(() => request.clone())}`,
      );
    }
    if (path === "/locked") {
      request.body!.getReader();
      return new Response(await outcome(() => request.json()));
    }
    // No body: empty, as often as asked, and never "used".
    return new Response(
      `${JSON.stringify(await request.text())} ${
        (await request.bytes()).length
      } ${request.bodyUsed}`,
    );
  });
  const responses = [];
  // One connection each: a body left locked and unread ends its connection.
  for (const request of ["POST /twice", "POST /locked", "GET /none"]) {
    const body = request.startsWith("POST") ? "Content-Length: 2\r\n\r\nhi" : "\r\n";
    responses.push(...await exchange(engine.port, `${request} HTTP/1.1\r\n${H}${body}`));
  }
  assert.deepEqual(responses.map((r) => r.body), [
    "TypeError: Body already consumed | TypeError: Body is unusable",
    "TypeError: Body already consumed",
    '"" 0 false',
  ]);
});

Deno.test("engine: bytes() of a body arriving in pieces is read whole into one array", async () => {
  const size = 3 * 1024 * 1024 + 5;
  await using engine = startEngine(async (request) => {
    const bytes = await request.bytes();
    let sum = 0;
    for (const byte of bytes) sum = (sum + byte) % 65521;
    return new Response(`${bytes.length} ${bytes.byteOffset} ${bytes.buffer.byteLength} ${sum}`);
  });
  const body = new Uint8Array(size).map((_, i) => (i * 7) % 251);
  let sum = 0;
  for (const byte of body) sum = (sum + byte) % 65521;
  await using client = await RawClient.connect(engine.port);
  await client.write(`POST / HTTP/1.1\r\n${H}Content-Length: ${size}\r\n\r\n`);
  for (let at = 0; at < size; at += 256 * 1024) {
    await client.write(body.subarray(at, Math.min(size, at + 256 * 1024)));
  }
  assert.equal((await client.response()).body, `${size} 0 ${size} ${sum}`);
});

Deno.test("engine: json() of a buffered body returns a promise: bad JSON rejects, a second read is a TypeError, the next request follows", async () => {
  await using engine = startEngine((request) => {
    if (request.method === "GET") return new Response("next");
    let parsed: Promise<unknown>;
    try {
      parsed = request.json();
    } catch {
      return new Response("threw at once");
    }
    return parsed.then(
      (value) => new Response(`parsed ${JSON.stringify(value)}`),
      async (error: Error) => {
        const again = await request.text().then(() => "read again", (e: Error) => e.name);
        return new Response(`${error.name} ${request.bodyUsed} ${again}`);
      },
    );
  });
  const post = (body: string) =>
    `POST / HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}`;
  const responses = await exchange(
    engine.port,
    post("{not json") + post('{"ok":1}') + `GET / HTTP/1.1\r\n${H}\r\n`,
    3,
  );
  assert.deepEqual(responses.map((r) => r.body), [
    "SyntaxError true TypeError",
    'parsed {"ok":1}',
    "next",
  ]);
});
