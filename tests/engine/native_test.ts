/**
 * The native engine (`--engine native`): Deno's HTTP engine on connections Starlight accepts,
 * with Starlight's request counting, retirement, draining, idle limit and access log around it.
 * Real sockets on 127.0.0.1, bytes read raw.
 */
import assert from "node:assert/strict";
import type { RetireReason } from "../../lib/app/retire.ts";
import type { Handler } from "../../lib/app/contract.ts";
import type { AccessEntry } from "../../lib/engine/connection.ts";
import type { EngineOptions } from "../../lib/engine/config.ts";
import { NativeServer } from "../../lib/engine/native/server.ts";
import { nativeRefusal } from "../../lib/engine/native/refusal.ts";
import { nativeServeActive, nativeServeProblem } from "../../lib/deno/serve_http.ts";
import { OptionError, resolveOptions } from "../../lib/options/mod.ts";
import { serve } from "../../lib/serve/mod.ts";
import {
  exchange,
  fetchRaw,
  fieldValue,
  RawClient,
  sleep,
  TEST_OPTIONS,
} from "../_helpers/engine_harness.ts";

interface Native extends AsyncDisposable {
  readonly port: number;
  readonly server: NativeServer;
  readonly warnings: string[];
  readonly access: AccessEntry[];
  readonly reasons: RetireReason[];
}

/** The native server on an ephemeral port; `prepare` may dress each accepted connection. */
function startNative(
  handler: Handler,
  options: Partial<Omit<EngineOptions, "handler">> = {},
  { maxRequests = Infinity, scheme = "http", prepare }: {
    maxRequests?: number;
    scheme?: string;
    prepare?: (conn: Deno.Conn) => Deno.Conn;
  } = {},
): Native {
  const warnings: string[] = [];
  const access: AccessEntry[] = [];
  const reasons: RetireReason[] = [];
  const server = new NativeServer({ ...TEST_OPTIONS, ...options, handler }, {
    warn: (message, error) =>
      warnings.push(error instanceof Error ? `${message}: ${error.message}` : message),
    access: (entry) => access.push(entry),
    onRetire: (reason) => reasons.push(reason),
  }, maxRequests);
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listener = prepare === undefined ? raw : {
    addr: raw.addr,
    accept: async () => prepare(await raw.accept()),
    close: () => raw.close(),
  } as unknown as Deno.Listener;
  const serving = server.serve(listener, scheme);
  return {
    port: raw.addr.port,
    server,
    warnings,
    access,
    reasons,
    async [Symbol.asyncDispose]() {
      const timer = setTimeout(() => server.abort(), 2000);
      await server.drain();
      clearTimeout(timer);
      await serving;
    },
  };
}

const GET = (path = "/") => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

Deno.test("native: the internal is present on this Deno, and nothing is refused by default", () => {
  assert.equal(nativeServeActive(), true);
  assert.equal(nativeServeProblem(), undefined);
  assert.equal(nativeRefusal(resolveOptions({ app: "./a.ts", workers: 1 })), undefined);
  assert.equal(
    nativeRefusal(resolveOptions({ app: "./a.ts", workers: 1, engine: "native" })),
    undefined,
  );
});

Deno.test("native: answers with Deno's engine; the app gets the request and the client address", async () => {
  await using s = startNative((request, info) =>
    new Response(`${request.method} ${request.url} ${(info.remoteAddr as Deno.NetAddr).hostname}`)
  );
  const response = await fetchRaw(s.port, GET("/p?q=1"));
  assert.equal(response.status, 200);
  assert.equal(response.body, `GET http://a/p?q=1 127.0.0.1`);
  assert.equal(fieldValue(response, "server"), undefined, "Deno's engine sends no Server header");
  assert.equal(s.server.requests, 1);
});

Deno.test("native: keep-alive serves several requests on one connection", async () => {
  let n = 0;
  await using s = startNative(() => new Response(String(++n)));
  await using client = await RawClient.connect(s.port);
  await client.write(GET() + GET());
  assert.equal((await client.response()).body, "1");
  assert.equal((await client.response()).body, "2");
  await client.write(GET());
  assert.equal((await client.response()).body, "3");
  assert.equal(s.server.connections, 1);
  assert.equal(await client.quietFor(100), true, "the connection stays open");
});

Deno.test("native: --max-keepalive-reqs: the last response says Connection: close and the connection ends", async () => {
  await using s = startNative(() => new Response("x"), { maxKeepaliveRequests: 2 });
  const [first, second] = await exchange(s.port, GET() + GET(), 2, { expectClose: true });
  assert.equal(fieldValue(first, "connection"), undefined);
  assert.equal(fieldValue(second, "connection"), "close");
});

Deno.test("native: a response with immutable headers still ends the connection at the limit", async () => {
  await using s = startNative(() => Response.redirect("http://a/elsewhere", 302), {
    maxKeepaliveRequests: 1,
  });
  await using client = await RawClient.connect(s.port);
  await client.write(GET());
  assert.equal((await client.response()).status, 302);
  await client.untilClosed(2000);
});

Deno.test("native: the worker's request limit is counted per request and retires it once", async () => {
  await using s = startNative(() => new Response("x"), {}, { maxRequests: 3 });
  await using client = await RawClient.connect(s.port);
  await client.write(GET() + GET());
  await client.response();
  await client.response();
  assert.deepEqual(s.reasons, []);
  assert.equal(s.server.retiring, false);
  await client.write(GET());
  const third = await client.response();
  assert.equal(fieldValue(third, "connection"), "close", "retiring: keep-alive ends");
  assert.deepEqual(s.reasons, ["request-limit"]);
  assert.equal(s.server.requests, 3);
  await client.untilClosed(2000);
});

Deno.test("native: drain answers the request in flight, closes idle connections at once, then resolves", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  await using s = startNative(async (request) => {
    if (new URL(request.url).pathname === "/slow") {
      started.resolve();
      await release.promise;
    }
    return new Response("done");
  });
  await using idle = await RawClient.connect(s.port);
  await idle.write(GET());
  await idle.response();
  await using busy = await RawClient.connect(s.port);
  await busy.write(GET("/slow"));
  await started.promise;
  let drained = false;
  const draining = s.server.drain().then(() => drained = true);
  await idle.untilClosed(2000);
  assert.equal(drained, false, "the request in flight holds the drain");
  release.resolve();
  assert.equal((await busy.response()).body, "done");
  await busy.untilClosed(2000);
  await draining;
  assert.equal(s.server.connections, 0);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s.port }), "not accepting");
});

Deno.test("native: abort cuts a request in flight", async () => {
  const never = Promise.withResolvers<Response>();
  await using s = startNative(() => never.promise);
  await using client = await RawClient.connect(s.port);
  await client.write(GET());
  await sleep(50);
  s.server.abort();
  await client.untilClosed(2000);
  assert.equal(client.received, "");
  never.resolve(new Response("late"));
});

Deno.test("native: an idle keep-alive connection is closed after --keepalive-timeout", async () => {
  await using s = startNative(() => new Response("x"), { keepaliveTimeout: 200 });
  await using client = await RawClient.connect(s.port);
  await client.write(GET());
  await client.response();
  const at = Date.now();
  await client.untilClosed(2000);
  const after = Date.now() - at;
  assert.ok(after >= 150 && after < 1500, `closed after ${after} ms`);
});

Deno.test("native: a connection that sends nothing is closed after --header-timeout", async () => {
  await using s = startNative(() => new Response("x"), { headerTimeout: 200 });
  await using client = await RawClient.connect(s.port);
  await client.untilClosed(2000);
  assert.equal(client.received, "");
});

Deno.test("native: an app that throws gets a 500 and one warning naming the method and path", async () => {
  await using s = startNative((request) => {
    if (new URL(request.url).pathname === "/boom") throw new Error("kaput");
    return Promise.reject(new Error("async kaput"));
  });
  const sync = await fetchRaw(s.port, GET("/boom?secret=1"));
  assert.equal(sync.status, 500);
  assert.match(sync.body, /^Internal Server Error\n$/);
  const async = await fetchRaw(s.port, GET("/later"));
  assert.equal(async.status, 500);
  assert.deepEqual(s.warnings, [
    "the app failed on GET /boom: kaput",
    "the app failed on GET /later: async kaput",
  ]);
});

Deno.test("native: the access log gets one entry per response, with the body size", async () => {
  await using s = startNative(() => new Response("héllo"));
  await fetchRaw(
    s.port,
    "GET /x?y HTTP/1.1\r\nHost: a\r\nReferer: http://r/\r\nUser-Agent: ua/1\r\n\r\n",
  );
  assert.equal(s.access.length, 1);
  const [entry] = s.access;
  assert.equal(entry.remote, "127.0.0.1");
  assert.equal(entry.requestLine, "GET /x?y HTTP/1.1");
  assert.equal(entry.status, 200);
  assert.equal(entry.bytes, 6);
  assert.equal(entry.referer, "http://r/");
  assert.equal(entry.userAgent, "ua/1");
});

Deno.test("native: a relayed connection gives the app its client's address, and https when relayed from TLS", async () => {
  await using s = startNative(
    (request, info) => new Response(`${request.url} ${(info.remoteAddr as Deno.NetAddr).hostname}`),
    {},
    {
      scheme: "https",
      prepare: (conn) =>
        Object.defineProperties(conn, {
          remoteAddr: { value: { transport: "tcp", hostname: "203.0.113.9", port: 4321 } },
        }),
    },
  );
  const response = await fetchRaw(s.port, GET("/r"));
  assert.equal(response.body, "https://a/r 203.0.113.9");
  assert.equal(s.access[0].remote, "203.0.113.9");
});

Deno.test("native: refused where it cannot run: --ssl in the main thread; a bad --engine value", async () => {
  const options = {
    app: () => new Response("x"),
    workers: 0,
    engine: "native" as const,
    ssl: true,
    sslKeyFile: "/k.pem",
    sslCertFile: "/c.pem",
    port: 0,
    quiet: true,
  };
  assert.match(nativeRefusal(resolveOptions(options))!, /^--engine native: --ssl needs workers/);
  await assert.rejects(serve(options), (error: Error) => {
    assert.ok(error instanceof OptionError);
    assert.match(error.message, /--ssl needs workers/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
  assert.throws(
    () => resolveOptions({ app: "./a.ts", engine: "rust" as "ts" }),
    /--engine: 'rust' is not ts or native/,
  );
});
