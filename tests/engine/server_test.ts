/** The server's retirement (harakiri): one name each for the act, the state and the hook. */
import assert from "node:assert/strict";
import type { RetireReason } from "../../lib/app/retire.ts";
import { engineOptions } from "../../lib/engine/config.ts";
import { HttpServer } from "../../lib/engine/server.ts";
import { MemoryListener } from "../_helpers/memory_conn.ts";
import { MEMORY_SETTINGS } from "../_helpers/memory_engine.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

function server(maxRequests: number, reasons: RetireReason[]) {
  const http = new HttpServer(engineOptions(MEMORY_SETTINGS, () => new Response("x")), {
    warn() {},
    onRetire: (reason) => reasons.push(reason),
  }, maxRequests);
  const memory = new MemoryListener();
  const serving = http.serve(memory.listener, "http");
  return {
    http,
    memory,
    async [Symbol.asyncDispose]() {
      await http.drain();
      await serving;
    },
  };
}

Deno.test("server: the request that reaches the limit retires it once, with reason request-limit", async () => {
  const reasons: RetireReason[] = [];
  await using s = server(2, reasons);
  const conn = s.memory.connect();
  conn.send(GET + GET + GET);
  await conn.until(() => conn.serverClosed);
  assert.deepEqual(reasons, ["request-limit"]);
  assert.equal(s.http.retiring, true);
  assert.equal(conn.received.split("HTTP/1.1 200").length - 1, 2, "the third is not answered");
  assert.match(conn.received, /connection: close\r\n\r\nx$/);
});

Deno.test('server: retire("app") is reported; responses from then on close their connections', async () => {
  const reasons: RetireReason[] = [];
  await using s = server(Infinity, reasons);
  assert.equal(s.http.retiring, false);
  s.http.retire("app");
  s.http.retire("request-limit");
  assert.deepEqual(reasons, ["app"], "once, with the first reason");
  const conn = s.memory.connect();
  conn.send(GET);
  await conn.until(() => conn.serverClosed);
  assert.match(conn.received, /connection: close/);
});

Deno.test("server: retire() without a reason (the owner's own decision) reports nothing", async () => {
  const reasons: RetireReason[] = [];
  await using s = server(Infinity, reasons);
  s.http.retire();
  assert.equal(s.http.retiring, true);
  assert.deepEqual(reasons, []);
});

Deno.test("server: draining closes a connection that never sent a byte within a short grace, not after the header timeout", async () => {
  await using s = server(Infinity, []);
  const unused = s.memory.connect();
  const used = s.memory.connect();
  used.send(GET);
  await used.until(() => used.received.includes("\r\n\r\nx"));
  const started = Date.now();
  // In-memory connections keep no event loop alive, as a socket's read would; the sweeper's
  // timer does not either.
  const alive = setTimeout(() => {}, 10_000);
  await s.http.drain();
  clearTimeout(alive);
  assert.ok(Date.now() - started < 1000, `drained in ${Date.now() - started} ms`);
  assert.ok(unused.serverClosed && used.serverClosed);
  assert.equal(unused.received, "", "nothing written to the unused connection");
});

Deno.test("server: a connection accepted as draining begins is answered when its request comes a moment later", async () => {
  await using s = server(Infinity, []);
  const late = s.memory.connect();
  const drained = s.http.drain();
  await new Promise((resolve) => setTimeout(resolve, 100));
  late.send(GET);
  await drained;
  assert.match(late.received, /^HTTP\/1\.1 200 [^]*connection: close\r\n\r\nx$/);
});
