/**
 * `--proxy-protocol` (`lib/listen/proxy_listener.ts`, issue 16 item 6): the engine in-process
 * behind the PROXY-protocol listener, clients that send v1 and v2 headers, no header, a
 * trickled or a silent one; and Debian's HAProxy with `send-proxy` and `send-proxy-v2` in
 * front.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bytes, RawClient, sleep, TEST_OPTIONS } from "../_helpers/engine_harness.ts";
import { HttpServer } from "../../lib/engine/server.ts";
import { ProxyProtocolListener } from "../../lib/listen/proxy_listener.ts";
import type { Handler } from "../../lib/app/contract.ts";
import { findTool, freePort } from "../_helpers/examples.ts";

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const GET = "GET /who HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n";

/** Answers with the client address and URL the app sees. */
const whoApp: Handler = (request, info) => {
  const remote = info.remoteAddr as Deno.NetAddr;
  return new Response(`${remote.hostname} ${remote.port} ${request.url}`);
};

interface ProxiedEngine extends AsyncDisposable {
  port: number;
  refused: string[];
  server: HttpServer;
}

function startProxied(timeout = 2000, handler: Handler = whoApp): ProxiedEngine {
  const refused: string[] = [];
  const server = new HttpServer({ ...TEST_OPTIONS, handler }, { warn: () => {} });
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listener = new ProxyProtocolListener(inner, {
    timeout,
    refused: (reason) => refused.push(reason),
  });
  const serving = server.serve(listener, "http");
  return {
    port: inner.addr.port,
    refused,
    server,
    async [Symbol.asyncDispose]() {
      const timer = setTimeout(() => server.abort(), 2000);
      await server.drain();
      clearTimeout(timer);
      await serving;
      await sleep(0);
    },
  };
}

function v2Inet(src: number[], dst: number[], sport: number, dport: number, tlvs: number[] = []) {
  const body = [...src, ...dst, sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, ...tlvs];
  return new Uint8Array([...SIGNATURE, 0x21, 0x11, body.length >> 8, body.length & 0xff, ...body]);
}

async function ask(port: number, ...parts: (string | Uint8Array)[]): Promise<string> {
  await using client = await RawClient.connect(port);
  for (const part of parts) await client.write(part);
  return (await client.response()).body;
}

Deno.test("proxy listener: a v1 header names the client the app sees", async () => {
  await using engine = startProxied();
  const body = await ask(
    engine.port,
    "PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n" + GET,
  );
  assert.equal(body, "203.0.113.7 51234 http://app.example/who");
  const v6 = await ask(engine.port, "PROXY TCP6 2001:db8::7 2001:db8::1 4000 80\r\n" + GET);
  assert.equal(v6, "2001:db8::7 4000 http://app.example/who");
  assert.deepEqual(engine.refused, []);
});

Deno.test("proxy listener: a v2 header with TLVs, and bytes of the request in the same write", async () => {
  await using engine = startProxied();
  const header = v2Inet([198, 51, 100, 9], [10, 0, 0, 1], 40000, 8080, [0x04, 0x00, 0x01, 0x00]);
  const joined = new Uint8Array([...header, ...bytes(GET)]);
  assert.equal(await ask(engine.port, joined), "198.51.100.9 40000 http://app.example/who");
});

Deno.test("proxy listener: v2 LOCAL (a health check) and v1 UNKNOWN keep the real peer", async () => {
  await using engine = startProxied();
  const local = new Uint8Array([...SIGNATURE, 0x20, 0x00, 0x00, 0x00]);
  assert.match(await ask(engine.port, local, GET), /^127\.0\.0\.1 \d+ /);
  assert.match(await ask(engine.port, "PROXY UNKNOWN\r\n" + GET), /^127\.0\.0\.1 \d+ /);
});

Deno.test("proxy listener: a header trickled one byte at a time is read exactly", async () => {
  await using engine = startProxied();
  await using client = await RawClient.connect(engine.port);
  const header = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n";
  for (const c of header) {
    await client.write(c);
    await sleep(1);
  }
  await client.write(GET);
  assert.equal((await client.response()).body, "203.0.113.7 51234 http://app.example/who");
});

Deno.test("proxy listener: a connection without a valid header is closed unanswered", async () => {
  await using engine = startProxied();
  for (
    const input of [
      GET,
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n" + GET,
      "PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n",
    ]
  ) {
    await using client = await RawClient.connect(engine.port);
    await client.write(input).catch(() => {});
    assert.equal(await client.untilClosed(2000), "", JSON.stringify(input));
  }
  assert.equal(engine.refused.length, 3);
  assert.match(engine.refused[0], /not a PROXY protocol header/);
  assert.match(engine.refused[1], /needs 4 fields/);
  assert.match(engine.refused[2], /not valid IPv4/);
});

Deno.test("proxy listener: a silent or slow client is cut at the deadline and blocks no one", async () => {
  await using engine = startProxied(300);
  await using silent = await RawClient.connect(engine.port);
  await using slow = await RawClient.connect(engine.port);
  await slow.write("PROXY TCP4 ");
  // Meanwhile a good client is served at once.
  const started = performance.now();
  assert.equal(
    await ask(engine.port, "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\r\n" + GET),
    "203.0.113.7 1 http://app.example/who",
  );
  assert.ok(performance.now() - started < 250, "not held behind the silent ones");
  assert.equal(await silent.untilClosed(3000), "");
  assert.equal(await slow.untilClosed(3000), "");
  assert.ok(performance.now() - started >= 250, "closed at the deadline, not before");
  assert.deepEqual(engine.refused, [
    "no complete PROXY protocol header within the timeout",
    "no complete PROXY protocol header within the timeout",
  ]);
});

Deno.test("proxy listener: keep-alive requests after the header all see the proxied client", async () => {
  await using engine = startProxied();
  await using client = await RawClient.connect(engine.port);
  await client.write("PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n");
  const keep = "GET /who HTTP/1.1\r\nHost: app.example\r\n\r\n";
  await client.write(keep + keep);
  assert.match((await client.response()).body, /^203\.0\.113\.7 51234/);
  assert.match((await client.response()).body, /^203\.0\.113\.7 51234/);
});

Deno.test("proxy listener: a connection mid-header when it closes is still served; then accept rejects", async () => {
  // A retiring worker closes its listener; a connection it already took from a shared accept
  // queue is seen by no other worker, so it is answered, not cut.
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused: string[] = [];
  const server = new HttpServer({ ...TEST_OPTIONS, handler: whoApp }, { warn: () => {} });
  const listener = new ProxyProtocolListener(inner, {
    timeout: 5000,
    refused: (r) => refused.push(r),
  });
  const serving = server.serve(listener, "http");
  await using client = await RawClient.connect(inner.addr.port);
  await client.write("PROXY ");
  await sleep(50);
  listener.close();
  await client.write("TCP4 203.0.113.7 192.0.2.1 51234 80\r\n" + GET);
  assert.match((await client.response()).body, /^203\.0\.113\.7 51234/);
  await serving;
  assert.deepEqual(refused, []);
  await assert.rejects(listener.accept(), Deno.errors.BadResource);
  await server.drain();
});

Deno.test("proxy listener: after it closes, a connection whose header never comes is cut at the deadline", async () => {
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused: string[] = [];
  const listener = new ProxyProtocolListener(inner, {
    timeout: 300,
    refused: (r) => refused.push(r),
  });
  const accepting = listener.accept();
  await using client = await RawClient.connect(inner.addr.port);
  await client.write("PROXY ");
  await sleep(50);
  listener.close();
  await assert.rejects(accepting, Deno.errors.BadResource);
  assert.equal(await client.untilClosed(2000), "");
  assert.equal(refused.length, 1, "named once, as any silent client is");
  await assert.rejects(listener.accept(), Deno.errors.BadResource);
});

// -------------------------------------------------------------------------------------------------
// HAProxy in front

const haproxy = findTool("haproxy", "proxy_listener_test: HAProxy tests");

Deno.test({
  name: "proxy listener: HAProxy's send-proxy and send-proxy-v2 reach the app as the client",
  ignore: haproxy === undefined,
  async fn() {
    await using engine = startProxied();
    const v1Port = freePort();
    const v2Port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "starlight-haproxy-" });
    const config = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(
      config,
      [
        "global",
        "  maxconn 100",
        "defaults",
        "  mode tcp",
        "  timeout connect 2s",
        "  timeout client 5s",
        "  timeout server 5s",
        `frontend v1`,
        `  bind 127.0.0.1:${v1Port}`,
        "  default_backend starlight_v1",
        `frontend v2`,
        `  bind 127.0.0.1:${v2Port}`,
        "  default_backend starlight_v2",
        "backend starlight_v1",
        `  server s1 127.0.0.1:${engine.port} send-proxy`,
        "backend starlight_v2",
        `  server s1 127.0.0.1:${engine.port} send-proxy-v2`,
        "",
      ].join("\n"),
    );
    const child = new Deno.Command(haproxy!, {
      args: ["-db", "-f", config],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      for (const port of [v1Port, v2Port]) {
        // The client's own source port is what HAProxy must pass on (its own differs).
        let body = "";
        let local = 0;
        for (let attempt = 0; attempt < 50 && body === ""; attempt++) {
          try {
            await using client = await RawClient.connect(port);
            local = (client.conn.localAddr as Deno.NetAddr).port;
            await client.write(GET);
            body = (await client.response(3000)).body;
          } catch {
            await sleep(50); // HAProxy still starting.
          }
        }
        assert.equal(body, `127.0.0.1 ${local} http://app.example/who`, `through port ${port}`);
      }
      assert.deepEqual(engine.refused, []);
    } finally {
      child.kill("SIGTERM");
      await child.output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
