/**
 * How workers share their port: `--port 0` with several workers in both listen modes, and what
 * the supervisor's own hold on the shared socket (`shared` mode) guarantees: no other process
 * can join the port, and while no worker runs a new connection is answered 503 at once.
 */

import assert from "node:assert/strict";
import { Client, getOnce } from "../_helpers/load_client.ts";
import { appArgs, fixtures, withServer, workerIds } from "../_helpers/supervisor.ts";
import { have, selfSigned } from "../_helpers/listen.ts";

/** Tries `Deno.listen({ reusePort: true })` on `port` from another process; returns its output. */
async function hijack(port: number): Promise<string> {
  const code =
    `try { Deno.listen({ hostname: "0.0.0.0", port: ${port}, reusePort: true }); console.log("bound"); }` +
    ` catch (error) { console.log(error.name); }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

for (const mode of ["shared", "reuseport"]) {
  Deno.test(`--listen-mode ${mode} with --port 0: every worker listens on the one port`, async () => {
    const args = [
      "--port",
      "0",
      "--workers",
      "3",
      "--listen-mode",
      mode,
      `${fixtures}versioned.ts`,
    ];
    await withServer(args, async (server) => {
      await server.waitFor(/worker 3 started/);
      const ids = await workerIds(server.port);
      assert.ok(ids.size >= 2, `only ${ids.size} worker(s) answered`);
      assert.doesNotMatch(server.stderr(), /could not start|AddrInUse/);
      if (mode === "shared") assert.equal(await hijack(server.port), "AddrInUse");
    });
  });
}

Deno.test("shared mode: while no worker runs, a new connection is answered 503 with Retry-After at once, never queued to run later (issue 14, item 2)", async () => {
  // The replacement may start only 2 s after the first worker: a window with no worker.
  const args = ["--port", "0", "--workers", "1", "--spawn-interval", "2", ...appArgs];
  await withServer(args, async (server) => {
    const before = (await getOnce(server.port, "/exit")).body;
    await server.waitFor(/worker 1 crashed/);
    await server.waitFor(/no worker is serving/);
    const asked = performance.now();
    const standIn = await getOnce(server.port, "/", 5000);
    assert.equal(standIn.status, 503);
    assert.ok(performance.now() - asked < 1000, "answered at once");
    await server.waitFor(/worker 2 started/, 10_000);
    const reply = await getOnce(server.port, "/", 5000);
    assert.equal(reply.status, 200);
    assert.notEqual(reply.body, before);
  });
});

Deno.test("shared mode: a burst of keep-alive connections is spread over the workers", async () => {
  const args = ["--port", "0", "--workers", "4", `${fixtures}versioned.ts`];
  await withServer(args, async (server) => {
    await server.waitFor(/worker 4 started/);
    const clients = await Promise.all(
      Array.from({ length: 64 }, () => Client.connect(server.port)),
    );
    try {
      const perWorker = new Map<string, number>();
      await Promise.all(clients.map(async (client) => {
        const id = (await client.get("/")).body;
        perWorker.set(id, (perWorker.get(id) ?? 0) + 1);
      }));
      const counts = [...perWorker.values()];
      // Without the fair-share gate, one worker could take nearly all 64.
      assert.equal(counts.length, 4, `connections per worker: ${counts.join(", ")}`);
      assert.ok(Math.min(...counts) >= 8, `connections per worker: ${counts.join(", ")}`);
    } finally {
      for (const client of clients) client.close();
    }
  });
});

Deno.test({
  name:
    "TLS in shared mode with every worker gone: a new client gets 503 with Retry-After through the TLS front at once, and 200 once a worker is back (issue 12 item 7, issue 14 item 2)",
  ignore: !have("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starlight-pool-tls-" });
    try {
      const cert = (await selfSigned(dir))!;
      // The replacement may start only 2 s after the first worker: a window with no worker.
      const args = ["--port", "0", "--workers", "1", "--spawn-interval", "2"];
      const tls = ["--ssl", "--ssl-cert-file", cert.cert, "--ssl-key-file", cert.key];
      await withServer([...args, ...tls, ...appArgs], async (server) => {
        const before = await httpsGet(server.port, "/exit", cert.certPem);
        await server.waitFor(/worker 1 crashed/);
        await server.waitFor(/no worker is serving/);
        assert.doesNotMatch(server.stderr(), /worker 2 started/);
        const asked = performance.now();
        const standIn = await httpsGet(server.port, "/", cert.certPem);
        assert.match(standIn, /^HTTP\/1\.1 503 [^]*\r\nretry-after: 1\r\n/i);
        assert.ok(performance.now() - asked < 1000, "answered at once");
        await server.waitFor(/worker 2 started/, 10_000);
        const reply = await httpsGet(server.port, "/", cert.certPem);
        assert.match(reply, /^HTTP\/1\.1 200 /);
        assert.notEqual(reply.split("\r\n\r\n")[1], before.split("\r\n\r\n")[1]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** One HTTPS request on its own connection; the whole response as text. */
async function httpsGet(port: number, path: string, caCert: string): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        text += decoder.decode(buffer.subarray(0, n));
      }
    } catch (error) {
      // node:tls ends with a plain close, no close_notify: the response is complete anyway.
      if (!(error instanceof Deno.errors.UnexpectedEof) || text === "") throw error;
    }
    return text;
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by reading to the end.
    }
  }
}
