/**
 * Debian's haproxy in front of Starlight: `send-proxy-v2` to a server started with
 * `--proxy-protocol`, and `option forwardfor` plus `X-Forwarded-Proto` to one started with
 * `--forwarded-allow-ips 127.0.0.1`. The client's own source port tells its address from
 * haproxy's (everything runs on 127.0.0.1): the app must see the client's.
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { findTool, freePort, waitForPort } from "../_helpers/examples.ts";

const haproxy = findTool("haproxy", "haproxy_proxy_test");

const app = `${repoRoot}tests/fixtures/parity/client_echo.ts`;

function config(ppPort: number, ppServer: number, xffPort: number, xffServer: number): string {
  return `global
  maxconn 64
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend pp
  bind 127.0.0.1:${ppPort}
  default_backend pp
backend pp
  server s1 127.0.0.1:${ppServer} send-proxy-v2
frontend xff
  bind 127.0.0.1:${xffPort}
  option forwardfor
  http-request set-header X-Forwarded-Proto https
  default_backend xff
backend xff
  server s2 127.0.0.1:${xffServer}
`;
}

/** Sends a request from a fresh connection; returns the client's port and the body. */
async function ask(port: number): Promise<{ clientPort: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const clientPort = (conn.localAddr as Deno.NetAddr).port;
  await conn.write(
    new TextEncoder().encode("GET /who HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"),
  );
  let text = "";
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
  assert.match(text, /^HTTP\/1\.1 200 /, text);
  return { clientPort, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test({
  name: "haproxy: send-proxy-v2 and X-Forwarded-For/-Proto name the client to the app",
  ignore: haproxy === undefined,
  async fn() {
    const common = ["--host", "127.0.0.1", "--port", "0", "--workers", "1"];
    const servers: RunningServer[] = [];
    let proxy: Deno.ChildProcess | undefined;
    const dir = await Deno.makeTempDir();
    try {
      servers.push(await startServer([...common, "--proxy-protocol", app]));
      servers.push(await startServer([...common, "--forwarded-allow-ips", "127.0.0.1", app]));
      const ppPort = freePort();
      const xffPort = freePort();
      await Deno.writeTextFile(
        `${dir}/haproxy.cfg`,
        config(ppPort, servers[0].port, xffPort, servers[1].port),
      );
      proxy = new Deno.Command(haproxy!, {
        args: ["-db", "-f", `${dir}/haproxy.cfg`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitForPort(ppPort);
      await waitForPort(xffPort);

      const viaProxyProtocol = await ask(ppPort);
      assert.equal(
        viaProxyProtocol.body,
        `127.0.0.1 ${viaProxyProtocol.clientPort} http://site.test/who\n`,
      );
      const viaHeaders = await ask(xffPort);
      // X-Forwarded-For carries no port: the client's address, port 0, and the proxy's scheme.
      assert.equal(viaHeaders.body, "127.0.0.1 0 https://site.test/who\n");
    } finally {
      if (proxy !== undefined) {
        proxy.kill("SIGKILL");
        await proxy.status;
      }
      for (const server of servers) await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
