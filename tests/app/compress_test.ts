/**
 * `--compress` end to end (`lib/app/compress.ts`): the engine in-process with the wrapper, raw
 * responses read off the socket, bodies decompressed and compared with what the app sent
 * (issue 16 item 9).
 */
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  bytes,
  fetchRaw,
  fieldValue,
  RawClient,
  type RawResponse,
  startEngine,
} from "../_helpers/engine_harness.ts";
import { AVAILABLE_CODINGS, withCompression } from "../../lib/app/compress.ts";
import type { Handler } from "../../lib/app/contract.ts";
import { upgradeWebSocket } from "../../lib/websocket/upgrade.ts";

const PAGE = "<!doctype html><title>t</title>" + "<p>Starlight compresses text. </p>".repeat(300) +
  "<p>é ✓ 😀</p>";
const encoder = new TextEncoder();

function get(path: string, accept: string | null, method = "GET"): string {
  return `${method} ${path} HTTP/1.1\r\nHost: t\r\n${
    accept === null ? "" : `Accept-Encoding: ${accept}\r\n`
  }Connection: close\r\n\r\n`;
}

function decoded(response: RawResponse): string {
  const raw = bytes(response.body);
  const coding = fieldValue(response, "content-encoding");
  const plain = coding === "gzip"
    ? gunzipSync(raw)
    : coding === "br"
    ? brotliDecompressSync(raw)
    : raw;
  return new TextDecoder().decode(plain);
}

const app: Handler = (request) => {
  const path = new URL(request.url).pathname;
  const html = { "content-type": "text/html; charset=utf-8" };
  switch (path) {
    case "/page":
      return new Response(PAGE, { headers: { ...html, etag: '"v1"' } });
    case "/bytes":
      return new Response(encoder.encode(PAGE), { headers: html });
    case "/stream":
      return new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < 20; i++) {
              controller.enqueue(encoder.encode(`line ${i} ${"x".repeat(200)}\n`));
            }
            controller.close();
          },
        }),
        { headers: { "content-type": "text/plain" } },
      );
    case "/small":
      return new Response("tiny", { headers: html });
    case "/png":
      return new Response(new Uint8Array(5000), { headers: { "content-type": "image/png" } });
    case "/encoded":
      return new Response("x".repeat(500), {
        headers: { ...html, "content-encoding": "identity" },
      });
    case "/no-transform":
      return new Response(PAGE, { headers: { ...html, "cache-control": "no-transform" } });
    case "/range":
      return new Response(PAGE.slice(0, 200), {
        status: 206,
        headers: { ...html, "content-range": `bytes 0-199/${PAGE.length}` },
      });
    case "/empty":
      return new Response(null, { status: 204 });
    case "/ws":
      return upgradeWebSocket(request).response;
    default:
      return new Response("not found", { status: 404 });
  }
};

Deno.test("compress: a whole body is compressed whole, with its compressed length", async () => {
  await using engine = startEngine(withCompression(app));
  for (const coding of AVAILABLE_CODINGS) {
    for (const path of ["/page", "/bytes"]) {
      const response = await fetchRaw(engine.port, get(path, coding));
      assert.equal(response.status, 200);
      assert.equal(fieldValue(response, "content-encoding"), coding, path);
      assert.equal(fieldValue(response, "vary"), "Accept-Encoding");
      assert.equal(fieldValue(response, "transfer-encoding"), undefined);
      assert.equal(Number(fieldValue(response, "content-length")), response.body.length);
      assert.ok(response.body.length < PAGE.length / 5, `${coding} ${response.body.length} bytes`);
      assert.equal(decoded(response), PAGE);
    }
  }
});

Deno.test("compress: br is available, and preferred as Deno.serve prefers it", async () => {
  assert.deepEqual(AVAILABLE_CODINGS, ["br", "gzip"]);
  await using engine = startEngine(withCompression(app));
  const response = await fetchRaw(engine.port, get("/page", "gzip, deflate, br, zstd"));
  assert.equal(fieldValue(response, "content-encoding"), "br");
  assert.equal(decoded(response), PAGE);
});

Deno.test("compress: a stream is compressed as it flows (chunked) and decompresses to the original", async () => {
  await using engine = startEngine(withCompression(app));
  const response = await fetchRaw(engine.port, get("/stream", "gzip"));
  assert.equal(fieldValue(response, "content-encoding"), "gzip");
  assert.equal(fieldValue(response, "transfer-encoding"), "chunked");
  let expected = "";
  for (let i = 0; i < 20; i++) expected += `line ${i} ${"x".repeat(200)}\n`;
  assert.equal(decoded(response), expected);
});

Deno.test("compress: a strong ETag becomes weak on the compressed response", async () => {
  await using engine = startEngine(withCompression(app));
  const response = await fetchRaw(engine.port, get("/page", "gzip"));
  assert.equal(fieldValue(response, "etag"), 'W/"v1"');
  const plain = await fetchRaw(engine.port, get("/page", null));
  assert.equal(fieldValue(plain, "etag"), '"v1"', "the uncompressed one keeps its strong ETag");
});

Deno.test("compress: a client that accepts nothing gets the original with Vary: Accept-Encoding", async () => {
  await using engine = startEngine(withCompression(app));
  for (const accept of [null, "identity", "deflate", "gzip;q=0"]) {
    const response = await fetchRaw(engine.port, get("/page", accept));
    assert.equal(fieldValue(response, "content-encoding"), undefined, String(accept));
    assert.equal(fieldValue(response, "vary"), "Accept-Encoding");
    assert.equal(new TextDecoder().decode(bytes(response.body)), PAGE);
  }
});

Deno.test("compress: responses that must not or need not be compressed go out byte for byte", async () => {
  await using plainEngine = startEngine(app);
  await using engine = startEngine(withCompression(app));
  for (
    const path of ["/small", "/png", "/encoded", "/no-transform", "/range", "/empty", "/nothing"]
  ) {
    const expected = await fetchRaw(plainEngine.port, get(path, "gzip, br"));
    const got = await fetchRaw(engine.port, get(path, "gzip, br"));
    const withoutDate = (r: RawResponse) => r.raw.replace(/^date: .*\r\n/im, "");
    assert.equal(withoutDate(got), withoutDate(expected), path);
  }
  await using client = await RawClient.connect(engine.port);
  await client.write(get("/page", "gzip", "HEAD"));
  const head = await client.response(5000, true);
  assert.equal(fieldValue(head, "content-encoding"), undefined, "HEAD");
  assert.equal(fieldValue(head, "etag"), '"v1"', "HEAD");
});

Deno.test("compress: a WebSocket upgrade passes through the wrapper", async () => {
  await using engine = startEngine(withCompression(app));
  const socket = new WebSocket(`ws://127.0.0.1:${engine.port}/ws`);
  const opened = await new Promise<boolean>((resolve) => {
    socket.onopen = () => resolve(true);
    socket.onerror = () => resolve(false);
  });
  assert.ok(opened);
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.close();
  await closed;
});
