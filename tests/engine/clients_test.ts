/**
 * Real clients against the engine: curl (keep-alive reuse, chunked upload, 100-continue),
 * Deno's fetch (including a streaming upload), and undici with HTTP/1.1 pipelining.
 */
import assert from "node:assert/strict";
import { Client } from "undici";
import { sleep, startEngine, within } from "../_helpers/engine_harness.ts";

function hasCurl(): boolean {
  try {
    new Deno.Command("curl", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

const CURL = hasCurl();
if (!CURL) console.log("curl tests skipped: curl is not installed (apt-get install curl)");

/** Runs curl with `args` (and `stdin`), at most 20 s. */
async function curl(args: string[], stdin?: Uint8Array) {
  const command = new Deno.Command("curl", {
    args: ["--silent", "--show-error", "--max-time", "15", ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  });
  const child = command.spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Byte count and a simple checksum of a body, as the server saw it. */
async function digest(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  let length = 0;
  let sum = 0;
  if (stream !== null) {
    for await (const chunk of stream) {
      for (const b of chunk) sum = (sum * 31 + b) >>> 0;
      length += chunk.length;
    }
  }
  return `${length}:${sum}`;
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 13 + (i >> 8)) & 0xff;
  return out;
}

async function localDigest(bytes: Uint8Array): Promise<string> {
  return await digest(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());
}

Deno.test({
  name: "curl: two URLs share one kept-alive connection",
  ignore: !CURL,
  async fn() {
    await using engine = startEngine((request) => new Response(new URL(request.url).pathname));
    const base = `http://127.0.0.1:${engine.port}`;
    const result = await curl(["-v", `${base}/a`, `${base}/b`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "/a/b");
    assert.match(result.stderr, /Re-?using existing connection/);
    assert.equal(engine.writes.length, 1, "one connection accepted");
  },
});

Deno.test({
  name: "curl: a chunked upload from stdin arrives whole",
  ignore: !CURL,
  async fn() {
    await using engine = startEngine(async (request) => {
      const chunked = request.headers.get("transfer-encoding");
      return new Response(`${chunked} ${await digest(request.body)}`);
    });
    const body = pattern(300_000);
    const result = await curl(
      [
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
        `http://127.0.0.1:${engine.port}/up`,
      ],
      body,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `chunked ${await localDigest(body)}`);
  },
});

Deno.test({
  name: "curl: Expect: 100-continue gets its 100 at once for a large upload",
  ignore: !CURL,
  async fn() {
    await using engine = startEngine(async (request) => new Response(await digest(request.body)));
    const body = pattern(4 * 1024 * 1024);
    const dir = await Deno.makeTempDir({ prefix: "starlight-curl-" });
    try {
      const file = `${dir}/body.bin`;
      await Deno.writeFile(file, body);
      const started = Date.now();
      // Without a 100 Continue, curl would wait 10 s before sending the body.
      const result = await curl([
        "-v",
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "10",
        "--data-binary",
        `@${file}`,
        `http://127.0.0.1:${engine.port}/big`,
      ]);
      const took = Date.now() - started;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /< HTTP\/1\.1 100 Continue/);
      assert.equal(result.stdout, await localDigest(body));
      assert.ok(took < 5000, `took ${took} ms`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("fetch: GET and POST round trips", async () => {
  await using engine = startEngine(async (request) =>
    new Response(`${request.method} ${await request.text()}`, { headers: { "X-Echo": "yes" } })
  );
  using client = Deno.createHttpClient({});
  const base = `http://127.0.0.1:${engine.port}`;
  const get = await fetch(`${base}/`, { client, signal: AbortSignal.timeout(5000) });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("x-echo"), "yes");
  assert.equal(get.headers.get("server"), "Starlight/test");
  assert.equal(await get.text(), "GET ");
  const post = await fetch(`${base}/`, {
    client,
    method: "POST",
    body: "payload",
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(await post.text(), "POST payload");
});

Deno.test("fetch: a streaming upload (duplex: half) reaches the app while it is being sent", async () => {
  const firstSeen = Promise.withResolvers<void>();
  await using engine = startEngine(async (request) => {
    const reader = request.body!.getReader();
    const parts: string[] = [];
    const decoder = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      parts.push(decoder.decode(r.value));
      firstSeen.resolve();
    }
    return new Response(parts.join(""));
  });
  const encoder = new TextEncoder();
  let step = 0;
  const upload = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step === 0) controller.enqueue(encoder.encode("first,"));
      else if (step === 1) {
        // The rest is only sent once the app has read the first part: true streaming.
        await within(3000, firstSeen.promise, "the app to see the first part");
        controller.enqueue(encoder.encode("second"));
      } else controller.close();
      step++;
    },
  });
  using client = Deno.createHttpClient({});
  const response = await fetch(`http://127.0.0.1:${engine.port}/stream`, {
    client,
    method: "POST",
    body: upload,
    duplex: "half",
    signal: AbortSignal.timeout(5000),
  } as RequestInit);
  assert.equal(await response.text(), "first,second");
});

Deno.test("undici: pipelined requests on one connection are all answered in order", async () => {
  await using engine = startEngine(async (request) => {
    const n = Number(new URL(request.url).pathname.slice(1));
    // The first is the slowest, so the others queue up behind it on the connection.
    if (n === 0) await sleep(100);
    return new Response(`response ${n}`);
  });
  const client = new Client(`http://127.0.0.1:${engine.port}`, { pipelining: 10 });
  try {
    const results = await within(
      5000,
      Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          // blocking: false, or undici waits for each GET's response head before the next.
          const { statusCode, body } = await client.request({
            path: `/${i}`,
            method: "GET",
            blocking: false,
          });
          return `${statusCode} ${await body.text()}`;
        }),
      ),
      "10 pipelined responses",
    );
    assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => `200 response ${i}`));
  } finally {
    await client.close();
  }
  assert.equal(engine.reads.length, 1, "one connection");
  const most = Math.max(...engine.reads[0].map((read) => read.split("GET /").length - 1));
  assert.ok(most > 1, "several requests arrived in one read: they were pipelined");
});
