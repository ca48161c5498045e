/**
 * TLS terminated in front threads that run no app code (issue 13, item 10): a hostile
 * dependency finds no key in any listen mode, the app still sees the real client and an https
 * URL, the relay port between fronts and workers serves no stranger, a stalled handshake holds
 * up no one, and restarts lose no HTTPS connection.
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import {
  curl,
  echoApp,
  eventually,
  fixtures,
  have,
  loopbackListeners,
  selfSigned,
} from "../_helpers/listen.ts";
import { encodePreamble, RELAY_TOKEN_BYTES } from "../../lib/listen/relay_preamble.ts";

const tools = have("openssl") && have("curl");
if (!tools) console.log("skipped: the TLS front tests need openssl and curl");

const snoopApp = `${fixtures}key_snoop.ts`;

let material: Promise<{ dir: string; cert: string; key: string; certPem: string }> | undefined;

function setup() {
  return material ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "starlight-front-" });
    return { dir, ...(await selfSigned(dir))! };
  })();
}

async function tlsArgs(): Promise<string[]> {
  const m = await setup();
  return ["--ssl", "--ssl-cert-file", m.cert, "--ssl-key-file", m.key];
}

/** `curl -k`; the body, then the local port curl used on the last line. */
async function get(url: string, extra: string[] = []): Promise<{ body: string; port: number }> {
  const result = await curl(["-k", ...extra, "-w", "\n%{local_port}", url]);
  assert.equal(result.code, 0, result.stderr);
  const at = result.stdout.lastIndexOf("\n");
  return { body: result.stdout.slice(0, at), port: Number(result.stdout.slice(at + 1)) };
}

const modes: [string, string[]][] = [
  ["shared", ["--listen-mode", "shared"]],
  ["reuseport", ["--listen-mode", "reuseport"]],
  ["shared, client certificates", ["--listen-mode", "shared", "--ssl-verify-mode", "1"]],
  ["reuseport, client certificates", ["--listen-mode", "reuseport", "--ssl-verify-mode", "1"]],
];

for (const [name, args] of modes) {
  Deno.test({
    name:
      `${name}: a dependency patching EventEmitter.prototype.emit and Object.prototype finds no TLS key`,
    ignore: !tools,
    async fn() {
      const m = await setup();
      const ca = args.includes("--ssl-verify-mode") ? ["--ssl-ca-file", m.cert] : [];
      const server = await startServer([
        "--workers",
        "2",
        "--port",
        "0",
        ...args,
        ...ca,
        ...(await tlsArgs()),
        snoopApp,
      ]);
      try {
        await server.waitFor(/worker 2 started/);
        const base = `https://127.0.0.1:${server.port}`;
        for (let i = 0; i < 4; i++) {
          const { body, port } = await get(`${base}/hello`);
          const seen = JSON.parse(body);
          // The app sees the client itself, not the relay, and an https URL.
          assert.deepEqual(seen, {
            url: `${base}/hello`,
            transport: "tcp",
            hostname: "127.0.0.1",
            port,
          });
        }
        // Keep-alive: two requests on one connection.
        const twice = await curl(["-k", `${base}/a`, `${base}/b`]);
        assert.equal(twice.stdout.split('"url"').length - 1, 2, twice.stdout);
        for (let i = 0; i < 4; i++) {
          assert.deepEqual(JSON.parse((await get(`${base}/loot`)).body), { loot: [] });
        }
        assert.equal((await server.stop()).code, 0);
      } finally {
        server.kill("SIGKILL");
      }
    },
  });
}

Deno.test({
  name: "--workers 0: the same dependency does find the key (no sandbox in the main thread)",
  ignore: !tools,
  async fn() {
    const server = await startServer([
      "--workers",
      "0",
      "--port",
      "0",
      ...(await tlsArgs()),
      snoopApp,
    ]);
    try {
      await get(`https://127.0.0.1:${server.port}/hello`);
      const { loot } = JSON.parse((await get(`https://127.0.0.1:${server.port}/loot`)).body);
      assert.ok(loot.some((line: string) => line.includes("PRIVATE KEY")), JSON.stringify(loot));
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "an IPv6 client is reported as itself, in info.remoteAddr and the access log",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const log = `${m.dir}/access-v6.log`;
    const server = await startServer([
      "--workers",
      "1",
      "--listen",
      "[::1]:0",
      "--access-log",
      log,
      ...(await tlsArgs()),
      echoApp,
    ]);
    try {
      const port = Number(/listening at port (\d+) on ::1/.exec(server.stderr())![1]);
      const { body } = await get(`https://[::1]:${port}/v6`);
      assert.deepEqual(JSON.parse(body), {
        url: `https://[::1]:${port}/v6`,
        transport: "tcp",
        hostname: "::1",
        worker: "starlight-worker-1",
      });
      await eventually(() => {
        try {
          return Deno.readTextFileSync(log).includes("/v6");
        } catch {
          return false;
        }
      }, "the access line");
      assert.match(Deno.readTextFileSync(log), /^::1 - - \[.*\] "GET \/v6 HTTP\/1\.1" 200 /);
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name:
    "a forged preamble claims no address: on the relay port it is closed, through a front it is a 400",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const log = `${m.dir}/access-forged.log`;
    const server = await startServer([
      "--workers",
      "1",
      "--port",
      "0",
      "--access-log",
      log,
      ...(await tlsArgs()),
      echoApp,
    ]);
    try {
      const ports = loopbackListeners(server.process.pid);
      assert.equal(ports.length, 1, `loopback listeners: ${ports}`);
      const forged: Deno.NetAddr = { transport: "tcp", hostname: "10.9.8.7", port: 4242 };
      const guess = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
      const request = new TextEncoder().encode("GET /forged HTTP/1.1\r\nHost: x\r\n\r\n");
      for (const bytes of [encodePreamble(guess, 0, forged, forged), new Uint8Array(0)]) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: ports[0] });
        await conn.write(new Uint8Array([...bytes, ...request]));
        assert.equal(await conn.read(new Uint8Array(64)).catch(() => null), null);
        conn.close();
      }
      // Through the front, a preamble of the client's own is just bytes before its request.
      const tls = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [m.certPem],
      });
      await tls.write(new Uint8Array([...encodePreamble(guess, 0, forged, forged), ...request]));
      const answer = new Uint8Array(64);
      const n = await tls.read(answer);
      assert.match(new TextDecoder().decode(answer.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);
      tls.close();
      await get(`https://127.0.0.1:${server.port}/real`);
      await eventually(() => {
        try {
          return Deno.readTextFileSync(log).includes("/real");
        } catch {
          return false;
        }
      }, "the access line");
      assert.doesNotMatch(Deno.readTextFileSync(log), /forged|10\.9\.8\.7/);
      // The secret is never printed: not in the banner, not in a log line.
      assert.doesNotMatch(server.stderr(), /[0-9a-f]{64}/);
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

for (const mode of ["shared", "reuseport"]) {
  Deno.test({
    name:
      `${mode}: clients stalling their handshake hold up no one (node:tls also cuts them at the header timeout)`,
    ignore: !tools,
    async fn() {
      const server = await startServer([
        "--workers",
        "1",
        "--port",
        "0",
        "--listen-mode",
        mode,
        "--header-timeout",
        "2",
        ...(await tlsArgs()),
        echoApp,
      ]);
      const stalled: Deno.Conn[] = [];
      try {
        // Twenty silent clients, and five that stop in the middle of a ClientHello.
        for (let i = 0; i < 25; i++) {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
          if (i >= 20) await conn.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
          stalled.push(conn);
        }
        const started = performance.now();
        for (let i = 0; i < 5; i++) await get(`https://127.0.0.1:${server.port}/meanwhile`);
        const took = performance.now() - started;
        assert.ok(took < 1500, `five requests took ${took.toFixed(0)} ms`);
        if (mode === "shared") {
          // node:tls closes them (Deno.listenTls keeps such sockets until the client leaves).
          const cut = performance.now();
          for (const conn of stalled) {
            assert.equal(await conn.read(new Uint8Array(8)).catch(() => null), null);
          }
          const after = performance.now() - cut + (cut - started);
          assert.ok(after < 5000, `cut after ${after.toFixed(0)} ms`);
        }
        assert.equal((await server.stop()).code, 0);
      } finally {
        for (const conn of stalled) conn.close();
        server.kill("SIGKILL");
      }
    },
  });
}

Deno.test({
  name: "reuseport: HTTPS requests keep flowing through HUP restarts (the fronts never restart)",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const server = await startServer([
      "--workers",
      "2",
      "--port",
      "0",
      "--listen-mode",
      "reuseport",
      ...(await tlsArgs()),
      echoApp,
    ]);
    const stop = new AbortController();
    try {
      let ok = 0;
      const failures: string[] = [];
      const one = async () => {
        const conn = await Deno.connectTls({
          hostname: "localhost",
          port: server.port,
          caCerts: [m.certPem],
        });
        try {
          await conn.write(
            new TextEncoder().encode("GET /hup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
          );
          let text = "";
          const buffer = new Uint8Array(4096);
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) break;
            text += new TextDecoder().decode(buffer.subarray(0, n));
          }
          return text;
        } finally {
          conn.close();
        }
      };
      const load = Promise.all(Array.from({ length: 4 }, async () => {
        while (!stop.signal.aborted) {
          const response = await one().catch((error) => String(error));
          if (response.startsWith("HTTP/1.1 200")) ok++;
          else failures.push(response.slice(0, 80));
        }
      }));
      const minimum = new Promise((resolve) => setTimeout(resolve, 1500));
      for (let i = 1; i <= 2; i++) {
        server.kill("SIGHUP");
        await server.waitFor(new RegExp(`(restart finished[^\\n]*\\n[^]*){${i}}`), 20_000);
      }
      await minimum;
      stop.abort();
      await load;
      assert.deepEqual(failures, [], `the server's log:\n${server.stderr()}`);
      assert.ok(ok > 20, `only ${ok} requests`);
      assert.equal((await server.stop()).code, 0);
    } finally {
      stop.abort();
      server.kill("SIGKILL");
    }
  },
});

const asRoot = Deno.uid() === 0 &&
  Deno.readTextFileSync("/etc/passwd").split("\n").some((line) => line.startsWith("nobody:"));

Deno.test({
  name:
    "reuseport with --user nobody on a port < 1024: workers restarted after the drop serve HTTPS",
  ignore: !tools || !asRoot,
  async fn() {
    const m = await setup();
    await Deno.chmod(m.dir, 0o755);
    await Deno.chmod(m.key, 0o600);
    let port = 0;
    for (let attempt = 0; port === 0 && attempt < 50; attempt++) {
      const candidate = 600 + Math.floor(Math.random() * 400);
      try {
        Deno.listen({ hostname: "127.0.0.1", port: candidate }).close();
        port = candidate;
      } catch {
        // Taken.
      }
    }
    const server = await startServer([
      "--workers",
      "2",
      "--listen",
      `127.0.0.1:${port}`,
      "--listen-mode",
      "reuseport",
      "--user",
      "nobody",
      ...(await tlsArgs()),
      echoApp,
    ]);
    try {
      server.kill("SIGHUP");
      await server.waitFor(/restart finished/, 20_000);
      assert.doesNotMatch(server.stderr(), /could not start|EACCES|Permission denied/);
      const seen = JSON.parse((await get(`https://127.0.0.1:${port}/low`)).body);
      assert.equal(seen.url, `https://127.0.0.1:${port}/low`);
      assert.match(seen.worker, /starlight-worker-[3-9]/);
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "cleanup",
  ignore: !tools,
  async fn() {
    if (material !== undefined) await Deno.remove((await material).dir, { recursive: true });
  },
});
