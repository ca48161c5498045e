/**
 * What stands in front of the app, on the wire: the health path the engine answers itself
 * (`--health-path`, issue 14 item 4) and the client named by trusted proxies
 * (`--forwarded-allow-ips`, issue 16 item 6).
 */
import assert from "node:assert/strict";
import { startMemoryEngine } from "../_helpers/memory_engine.ts";

Deno.test("health path: 200 from the engine, never the app, not counted toward recycling; 503 with Retry-After once unhealthy", async () => {
  let calls = 0;
  await using engine = startMemoryEngine(
    () => {
      calls++;
      return new Response("app");
    },
    { healthPath: "/healthz" },
    2,
  );
  const conn = engine.connect();
  conn.send(
    "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /healthz?probe=1 HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  await conn.untilReceived("HTTP/1.1 200", 2);
  assert.match(
    conn.received,
    /^HTTP\/1\.1 200 OK\r\n[^]*cache-control: no-store\r\n[^]*\r\n\r\nok\n/i,
  );
  assert.equal(calls, 0, "the app never sees a health check");
  assert.equal(engine.server.requests, 0, "health checks do not count toward --max-reqs-per-child");
  assert.equal(engine.server.retiring, false);
  conn.send(
    "GET /healthzx HTTP/1.1\r\nHost: a\r\n\r\nPOST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
  );
  await conn.untilReceived("app", 2);
  assert.equal(calls, 2, "another path, or a POST to it, is the app's");
  engine.server.markUnhealthy();
  const late = engine.connect();
  late.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  await late.untilReceived("draining\n");
  assert.match(late.received, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*retry-after: 1\r\n/i);
});

Deno.test("forwarded: a trusted peer's X-Forwarded-For/-Proto and Forwarded name the client; an untrusted peer's are ignored", async () => {
  const seen: string[] = [];
  const app = (request: Request, info: Deno.ServeHandlerInfo) => {
    seen.push(`${(info.remoteAddr as Deno.NetAddr).hostname} ${request.url}`);
    return new Response("x");
  };
  {
    // The in-memory peer is 127.0.0.1.
    await using engine = startMemoryEngine(app, { forwardedAllowIps: "127.0.0.1" });
    const conn = engine.connect();
    conn.send(
      "GET /a HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n\r\n" +
        'GET /b HTTP/1.1\r\nHost: example.com\r\nForwarded: for="[2001:db8::1]:4711";proto=https\r\n\r\n' +
        "GET /c HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
    await conn.untilReceived("HTTP/1.1 200", 3);
  }
  {
    await using engine = startMemoryEngine(app, { forwardedAllowIps: "10.0.0.0/8" });
    const conn = engine.connect();
    conn.send(
      "GET /d HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    await conn.untilReceived("HTTP/1.1 200");
  }
  assert.deepEqual(seen, [
    "10.0.0.2 https://example.com/a",
    "2001:db8::1 https://example.com/b",
    "127.0.0.1 http://example.com/c",
    "127.0.0.1 http://example.com/d",
  ]);
});
