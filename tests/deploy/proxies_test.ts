/**
 * Behind proxies, on the wire (issue 16, items 6 and 9): `--proxy-protocol` takes the client
 * from a PROXY v1 or v2 header and closes a connection without one; `--forwarded-allow-ips`
 * takes it from a trusted peer's headers, in `info.remoteAddr`, `request.url` and the access
 * log; `--compress` answers gzip to a client that accepts it.
 */
import assert from "node:assert/strict";
import { LOOPBACK, rawExchange, repoRoot } from "../_helpers/server.ts";
import { withServer } from "../_helpers/supervisor.ts";

const echo = `${repoRoot}tests/fixtures/listen/echo.ts`;

function bodyOf(response: string): Record<string, unknown> {
  return JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));
}

for (const workers of ["1", "0"]) {
  Deno.test(`--proxy-protocol, --workers ${workers}: the client named by a v1 or v2 header is the app's and the access log's; no header, no service`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "starlight-proxy-" });
    try {
      await withServer([
        ...LOOPBACK,
        "--workers",
        workers,
        "--proxy-protocol",
        "--access-log",
        `${dir}/access.log`,
        echo,
      ], async (server) => {
        const request = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        const v1 = await rawExchange(
          server.port,
          `PROXY TCP4 203.0.113.9 127.0.0.1 51000 80\r\n${request}`,
        );
        assert.equal(bodyOf(v1).hostname, "203.0.113.9");
        // v2: signature, version 2 PROXY, TCP over IPv6, 36 address bytes.
        const v2Header = new Uint8Array([
          0x0d,
          0x0a,
          0x0d,
          0x0a,
          0x00,
          0x0d,
          0x0a,
          0x51,
          0x55,
          0x49,
          0x54,
          0x0a,
          0x21,
          0x21,
          0x00,
          0x24,
          0x20,
          0x01,
          0x0d,
          0xb8,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0x07,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0x01,
          0xc7,
          0x38,
          0x00,
          0x50,
        ]);
        const v2 = await rawExchange(
          server.port,
          new Uint8Array([...v2Header, ...new TextEncoder().encode(request)]),
        );
        assert.equal(bodyOf(v2).hostname, "2001:db8::7");
        const bare = await rawExchange(server.port, request, 3000);
        assert.equal(bare, "", "a connection without a header is closed unanswered");
        await server.waitFor(/PROXY protocol: .*closed the connection from 127\.0\.0\.1/, 3000);
      });
      const log = await Deno.readTextFile(`${dir}/access.log`);
      assert.match(log, /^203\.0\.113\.9 - - \[/m);
      assert.match(log, /^2001:db8::7 - - \[/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("--forwarded-allow-ips: a trusted proxy's headers name the client; --compress: gzip for a client that accepts it", async () => {
  const args = [
    ...LOOPBACK,
    "--workers",
    "1",
    "--forwarded-allow-ips",
    "127.0.0.1",
    "--compress",
    echo,
  ];
  await withServer(args, async (server) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/f`, {
      headers: {
        "x-forwarded-for": "198.51.100.4",
        "x-forwarded-proto": "https",
        "accept-encoding": "gzip",
      },
    });
    // fetch decodes gzip itself; the header says what was on the wire.
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.match(response.headers.get("vary") ?? "", /accept-encoding/i);
    const body = await response.json();
    assert.equal(body.hostname, "198.51.100.4");
    assert.equal(body.url, `https://127.0.0.1:${server.port}/f`);
    const raw = await rawExchange(
      server.port,
      "GET /g HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-Proto: https\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    );
    assert.match(raw, /content-encoding: gzip/i);
    // gzip's magic 1f 8b and method 08 (rawExchange decodes as windows-1252: 8b is "‹").
    const payload = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    assert.equal(payload.slice(0, 3), "\x1f\u2039\x08", "the body is a gzip stream");
    const plain = await rawExchange(
      server.port,
      "GET /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.doesNotMatch(plain, /content-encoding/i, "no Accept-Encoding, no compression");
  });
});

Deno.test("--proxy-protocol: HUP restarts under load lose no request, even one whose header is still arriving", async () => {
  // Each client sends its header in two writes, as a slow balancer might: a retiring worker
  // that took the connection from the shared accept queue must still serve it.
  await withServer([...LOOPBACK, "--workers", "2", "--proxy-protocol", echo], async (server) => {
    const encoder = new TextEncoder();
    const one = async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      try {
        await conn.write(encoder.encode("PROXY TCP4 203.0.113.9 "));
        await new Promise((resolve) => setTimeout(resolve, 5));
        await conn.write(
          encoder.encode(
            "127.0.0.1 51000 80\r\nGET /hup HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
          ),
        );
        let text = "";
        const buffer = new Uint8Array(4096);
        for (let n; (n = await conn.read(buffer)) !== null;) {
          text += new TextDecoder().decode(buffer.subarray(0, n));
        }
        return text;
      } finally {
        conn.close();
      }
    };
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        const response = await one().catch((error) => String(error));
        if (response.startsWith("HTTP/1.1 200")) ok++;
        else failures.push(response.slice(0, 80));
      }
    }));
    for (let i = 1; i <= 3; i++) {
      server.kill("SIGHUP");
      await server.waitFor(new RegExp(`(restart finished[^\\n]*\\n[^]*){${i}}`), 20_000);
    }
    stop = true;
    await load;
    assert.deepEqual(failures, [], server.stderr());
    assert.ok(ok > 20, `only ${ok} requests`);
  });
});
