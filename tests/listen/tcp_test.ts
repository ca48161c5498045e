/**
 * TCP listeners: several at once, IPv4 and IPv6, one banner line each; `--ipv6`.
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import { bannerPorts, echoApp, runCli } from "../_helpers/listen.ts";

function ipv6Available(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

async function get(
  url: string,
): Promise<{ url: string; transport: string; hostname: string | null }> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test({
  name: "--listen twice (127.0.0.1 and [::1]) plus --port: three listeners, one banner line each",
  ignore: !ipv6Available() && (console.log("skipped: no IPv6 loopback on this machine"), true),
  async fn() {
    const server = await startServer([
      "--workers",
      "2",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "[::1]:0",
      "--port",
      "0",
      echoApp,
    ]);
    try {
      await server.waitFor(/(listening at port \d+[^\n]*\n[^]*){3}/);
      const ports = bannerPorts(server.stderr());
      assert.equal(ports.length, 3, server.stderr());
      const v4 = ports.find((p) => p.host === "127.0.0.1")!;
      const v6 = ports.find((p) => p.host === "::1")!;
      const any = ports.find((p) => p.host === undefined)!;
      assert.ok(v4 && v6 && any, server.stderr());
      const a = await get(`http://127.0.0.1:${v4.port}/a`);
      assert.equal(a.url, `http://127.0.0.1:${v4.port}/a`);
      assert.equal(a.hostname, "127.0.0.1");
      const b = await get(`http://[::1]:${v6.port}/b`);
      assert.equal(b.url, `http://[::1]:${v6.port}/b`);
      assert.equal(b.hostname, "::1");
      const c = await get(`http://127.0.0.1:${any.port}/c`);
      assert.equal(c.url, `http://127.0.0.1:${any.port}/c`);
      // 127.0.0.1 is not ::1: the IPv6 listener does not take IPv4 clients.
      await assert.rejects(fetch(`http://127.0.0.1:${v6.port}/`));
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "--ipv6: the default address is [::], which takes IPv6 and IPv4 clients",
  ignore: !ipv6Available(),
  async fn() {
    const server = await startServer(["--workers", "1", "--ipv6", "--port", "0", echoApp]);
    try {
      assert.match(
        server.stderr(),
        /http server listening at port \d+ \(http:\/\/\[::\]:\d+\/\)\n/,
      );
      assert.equal((await get(`http://[::1]:${server.port}/`)).hostname, "::1");
      const v4 = await get(`http://127.0.0.1:${server.port}/`);
      assert.match(v4.hostname ?? "", /^(::ffff:)?127\.0\.0\.1$/);
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test("a malformed --listen value is a usage error naming it", async () => {
  const result = await runCli(["--listen", "[::1:80", echoApp]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--listen: '\[::1:80': missing \]/);
});

Deno.test("a port already in use is a one-line start-up error, exit 1", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    const result = await runCli(["--workers", "1", "--listen", `127.0.0.1:${port}`, echoApp]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^starlight: .*(in use|AddrInUse)/m);
  } finally {
    blocker.close();
  }
});
