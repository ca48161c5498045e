/**
 * Coming and going behind a load balancer (issue 14, items 2–4), on the wire: TERM refuses new
 * connections at once while requests in flight finish; a request sent on an idle keep-alive
 * connection just after TERM is answered with `Connection: close`; `--shutdown-delay` keeps
 * serving while the health path says 503; while no worker can serve, new connections get 503
 * with `Retry-After` at once instead of waiting in the kernel.
 */
import assert from "node:assert/strict";
import { LOOPBACK, repoRoot, startServer } from "../_helpers/server.ts";

const app = `${repoRoot}tests/fixtures/deploy/flaky.ts`;
const base = [...LOOPBACK, "--health-path", "/healthz"];

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Opens a connection and sends `request`; resolves to what comes back until the close. */
async function exchange(conn: Deno.Conn, request: string): Promise<string> {
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(65536);
  let text = "";
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    if (/\r\n\r\n[^]*\n$/.test(text) && !/connection: close/i.test(text)) return text;
  }
}

Deno.test("TERM: new connections are refused at once, the request in flight finishes, a request on an idle keep-alive connection just after TERM is answered with Connection: close", async () => {
  const server = await startServer([...base, "--workers", "2", app]);
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    assert.match(await exchange(idle, "GET /warm HTTP/1.1\r\nHost: a\r\n\r\n"), /served \/warm/);
    const slow = fetch(`http://127.0.0.1:${server.port}/slow`).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const late = await exchange(idle, "GET /late HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.match(late, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(late, /connection: close/i);
    const refusedAt = Date.now();
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      Deno.errors.ConnectionRefused,
    );
    assert.ok(Date.now() - refusedAt < 500);
    assert.equal(await slow, "served /slow\n", "the request in flight finished");
    const status = await server.exited();
    assert.equal(status.code, 0);
  } finally {
    idle.close();
    server.kill("SIGKILL");
  }
});

Deno.test("--shutdown-delay: after TERM the health path says 503 while the app is served as usual; then the server shuts down", async () => {
  const server = await startServer([...base, "--workers", "2", "--shutdown-delay", "1", app]);
  try {
    assert.deepEqual(await get(server.port, "/healthz"), { status: 200, body: "ok\n" });
    const termAt = Date.now();
    server.kill("SIGTERM");
    await server.waitFor(/shutdown in 1 s/, 2000);
    // The workers hear of it a moment later (a message each).
    let health = await get(server.port, "/healthz");
    for (let i = 0; i < 10 && health.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      health = await get(server.port, "/healthz");
    }
    assert.deepEqual(health, { status: 503, body: "draining\n" });
    assert.deepEqual(await get(server.port, "/app"), { status: 200, body: "served /app\n" });
    assert.equal((await server.exited()).code, 0);
    const took = Date.now() - termAt;
    assert.ok(took >= 1000 && took < 4000, `exited ${took} ms after TERM`);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("no worker can serve (a bad deploy after a crash): new connections get 503 with Retry-After at once, and 200 again once a worker is back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-flaky-" });
  const marker = `${dir}/broken`;
  const server = await startServer(
    [
      ...base,
      "--workers",
      "1",
      `--allow-env=STARLIGHT_TEST_BROKEN`,
      `--allow-read=${dir}`,
      app,
    ],
    { env: { STARLIGHT_TEST_BROKEN: marker } },
  );
  try {
    await Deno.writeTextFile(marker, "");
    await fetch(`http://127.0.0.1:${server.port}/die`).then((r) => r.body?.cancel()).catch(
      () => {},
    );
    await server.waitFor(/no worker is serving/, 5000);
    const askedAt = Date.now();
    const response = await fetch(`http://127.0.0.1:${server.port}/app`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    await response.body?.cancel();
    assert.ok(Date.now() - askedAt < 1000, "answered at once, not queued");
    await Deno.remove(marker);
    await server.waitFor(/a worker serves again/, 20_000);
    assert.deepEqual(await get(server.port, "/app"), { status: 200, body: "served /app\n" });
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server-sent event stream on a shutting-down worker ends at --graceful-timeout as a finished response: last chunk, then close (issue 14, item 7)", async () => {
  const server = await startServer([
    ...LOOPBACK,
    "--workers",
    "1",
    "--graceful-timeout",
    "1",
    `${repoRoot}examples/sse.ts`,
  ]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(
      new TextEncoder().encode(
        "GET /events?count=1000&interval=100 HTTP/1.1\r\nHost: a\r\n\r\n",
      ),
    );
    const buffer = new Uint8Array(65536);
    let text = "";
    while (!text.includes("data:")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*transfer-encoding: chunked/i);
    server.kill("SIGTERM");
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.ok(text.endsWith("\r\n0\r\n\r\n"), `ends with: ${JSON.stringify(text.slice(-40))}`);
    assert.equal((await server.exited()).code, 0);
    assert.doesNotMatch(server.stderr(), /connection\(s\) cut/);
  } finally {
    conn.close();
    server.kill("SIGKILL");
  }
});
