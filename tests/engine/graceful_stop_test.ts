/**
 * The graceful stop a retiring worker and a `workers: 0` server share
 * (`lib/engine/graceful_stop.ts`), on in-memory connections.
 */

import assert from "node:assert/strict";
import { engineOptions } from "../../lib/engine/config.ts";
import { HttpServer } from "../../lib/engine/server.ts";
import { gracefulStop } from "../../lib/engine/graceful_stop.ts";
import { MemoryListener } from "../_helpers/memory_conn.ts";
import { MEMORY_SETTINGS } from "../_helpers/memory_engine.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

function serving(handler: (request: Request) => Response | Promise<Response>) {
  const http = new HttpServer(engineOptions(MEMORY_SETTINGS, handler), { warn() {} });
  const memory = new MemoryListener();
  const loop = http.serve(memory.listener, "http");
  return { http, memory, loop };
}

Deno.test("graceful stop: a request sent on an idle connection within the grace is answered, with close", async () => {
  const { http, memory, loop } = serving(() => new Response("x"));
  const idle = memory.connect();
  idle.send(GET);
  await idle.until(() => idle.received.endsWith("x"));
  const before = idle.received.length;
  let stoppedAccepting = false;
  const stopping = gracefulStop(http, {
    cutAfter: 5000,
    grace: 300,
    stoppedAccepting: () => {
      stoppedAccepting = true;
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  idle.send(GET);
  assert.equal(await stopping, 0, "nothing cut");
  await loop;
  assert.ok(stoppedAccepting);
  assert.match(idle.received.slice(before), /^HTTP\/1\.1 200 [^]*connection: close\r\n\r\nx$/);
  assert.ok(idle.serverClosed);
});

Deno.test("graceful stop: a request still in the app at the deadline is cut and counted", async () => {
  const never = Promise.withResolvers<Response>();
  const { http, memory, loop } = serving(() => never.promise);
  const stuck = memory.connect();
  stuck.send(GET);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = Date.now();
  assert.equal(await gracefulStop(http, { cutAfter: 200, grace: 50 }), 1);
  assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
  await loop;
  assert.ok(stuck.serverClosed);
  never.resolve(new Response("late"));
});

Deno.test("graceful stop: the signal ends the grace at once", async () => {
  const { http, memory, loop } = serving(() => new Response("x"));
  const idle = memory.connect();
  idle.send(GET);
  await idle.until(() => idle.received.endsWith("x"));
  const now = new AbortController();
  const started = Date.now();
  const stopping = gracefulStop(http, { cutAfter: 10_000, grace: 10_000, signal: now.signal });
  setTimeout(() => now.abort(), 50);
  assert.equal(await stopping, 0);
  assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
  await loop;
  assert.ok(idle.serverClosed, "the idle connection closed by the drain");
});
