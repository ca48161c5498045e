/**
 * HTTPS: curl and Deno's fetch against a throwaway certificate, a chain in the certificate file,
 * one-line start-up errors naming the bad file, the handshake bounded by the header timeout and
 * isolated from other connections, and client certificates (`--ssl-verify-mode`, defect 9).
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import {
  curl,
  echoApp,
  have,
  type KeyPair,
  makeCa,
  makeSigned,
  runCli,
  selfSigned,
} from "../_helpers/listen.ts";

const tools = have("openssl") && have("curl");
if (!tools) console.log("skipped: the TLS tests need openssl and curl");

interface Material {
  dir: string;
  /** Root CA → intermediate → server (the cert file holds server + intermediate). */
  root: KeyPair;
  server: KeyPair;
  /** A client certificate signed by `clients`. */
  clients: KeyPair;
  client: KeyPair;
  /** A self-signed client certificate no one trusts. */
  stranger: KeyPair;
}

let material: Promise<Material> | undefined;

function setup(): Promise<Material> {
  return material ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "starlight-tls-" });
    const root = await makeCa(dir, "root");
    const intermediate = await makeSigned(dir, root, "intermediate", "ca");
    const leaf = await makeSigned(dir, intermediate, "server", "server");
    const chain = `${dir}/chain.pem`;
    await Deno.writeTextFile(
      chain,
      (await Deno.readTextFile(leaf.cert)) + (await Deno.readTextFile(intermediate.cert)),
    );
    const clients = await makeCa(dir, "clients");
    const client = await makeSigned(dir, clients, "client", "client");
    const stranger = (await selfSigned(dir, "stranger"))!;
    return { dir, root, server: { cert: chain, key: leaf.key }, clients, client, stranger };
  })();
}

function tlsArgs(m: Material): string[] {
  return ["--ssl", "--ssl-cert-file", m.server.cert, "--ssl-key-file", m.server.key];
}

Deno.test({
  name: "HTTPS with a chain: curl (--cacert root, -k) and fetch see https: URLs",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const server = await startServer(["--workers", "2", "--port", "0", ...tlsArgs(m), echoApp]);
    try {
      assert.match(server.stderr(), /https server listening at port \d+/);
      const url = `https://localhost:${server.port}/path?q=1`;
      const verified = await curl(["--cacert", m.root.cert, url]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(JSON.parse(verified.stdout).url, url);
      const insecure = await curl(["-k", `https://127.0.0.1:${server.port}/k`]);
      assert.equal(JSON.parse(insecure.stdout).url, `https://127.0.0.1:${server.port}/k`);
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(m.root.cert)] });
      try {
        const response = await fetch(url, { client });
        const body = await response.json();
        assert.equal(body.url, url);
        assert.equal(body.hostname, "127.0.0.1");
      } finally {
        client.close();
      }
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "HTTPS with --workers 0 (node:tls) and --listen-mode reuseport (Deno.listenTls)",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(m.root.cert)] });
    try {
      for (const mode of [["--workers", "0"], ["--workers", "2", "--listen-mode", "reuseport"]]) {
        const server = await startServer([...mode, "--port", "0", ...tlsArgs(m), echoApp]);
        try {
          const url = `https://localhost:${server.port}/${mode.join("")}`;
          const body = await (await fetch(url, { client })).json();
          assert.equal(body.url, url);
          assert.equal((await server.stop()).code, 0);
        } finally {
          server.kill("SIGKILL");
        }
      }
    } finally {
      client.close();
    }
  },
});

Deno.test({
  name: "unreadable, invalid or mismatched key/cert: one line naming the file, exit 1",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const garbage = `${m.dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "not a certificate\n");
    const cases: [string[], RegExp][] = [
      [
        ["--ssl-cert-file", `${m.dir}/missing.pem`, "--ssl-key-file", m.server.key],
        /--ssl-cert-file \S*missing\.pem: /,
      ],
      [
        ["--ssl-cert-file", m.server.cert, "--ssl-key-file", `${m.dir}/missing.key`],
        /--ssl-key-file \S*missing\.key: /,
      ],
      [
        ["--ssl-cert-file", garbage, "--ssl-key-file", m.server.key],
        /--ssl-cert-file \S*garbage\.pem: no PEM certificate/,
      ],
      [
        ["--ssl-cert-file", m.server.cert, "--ssl-key-file", garbage],
        /--ssl-key-file \S*garbage\.pem: no PEM private key/,
      ],
      [
        ["--ssl-cert-file", m.server.cert, "--ssl-key-file", m.client.key],
        /--ssl-key-file \S*client\.key: the key does not match the certificate in \S*chain\.pem/,
      ],
    ];
    await Promise.all(cases.map(async ([args, expected]) => {
      const result = await runCli(["--workers", "1", "--port", "0", "--ssl", ...args, echoApp]);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^starlight: /);
      assert.match(lines[0], expected);
    }));
  },
});

Deno.test({
  name: "a silent client is cut at the header timeout; failed handshakes disturb nobody",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const server = await startServer([
      "--workers",
      "1",
      "--port",
      "0",
      "--header-timeout",
      "1",
      ...tlsArgs(m),
      echoApp,
    ]);
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(m.root.cert)] });
    try {
      const url = `https://localhost:${server.port}/`;
      assert.equal((await fetch(url, { client })).status, 200);
      // Connects, never says hello.
      const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      const started = Date.now();
      // Plain HTTP and garbage to the TLS port, meanwhile.
      for (const bytes of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x00\x05hello"]) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        await conn.write(new TextEncoder().encode(bytes));
        await conn.read(new Uint8Array(100)).catch(() => null);
        conn.close();
      }
      assert.equal((await fetch(url, { client })).status, 200);
      const n = await silent.read(new Uint8Array(16)).catch(() => null);
      const elapsed = Date.now() - started;
      silent.close();
      assert.equal(n, null);
      assert.ok(elapsed >= 700 && elapsed < 4000, `closed after ${elapsed} ms`);
      assert.equal((await fetch(url, { client })).status, 200);
      assert.equal((await server.stop()).code, 0);
    } finally {
      client.close();
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "--ssl-verify-mode 3: a client certificate from the CA is required",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const server = await startServer([
      "--workers",
      "2",
      "--port",
      "0",
      ...tlsArgs(m),
      "--ssl-verify-mode",
      "3",
      "--ssl-client-ca-file",
      m.clients.cert,
      "--header-timeout",
      "2",
      echoApp,
    ]);
    try {
      const url = `https://localhost:${server.port}/mtls`;
      const base = ["--cacert", m.root.cert, url];
      const none = await curl(base);
      assert.notEqual(none.code, 0, "served a client without a certificate");
      const strange = await curl(["--cert", m.stranger.cert, "--key", m.stranger.key, ...base]);
      assert.notEqual(strange.code, 0, "served an untrusted client certificate");
      const good = await curl(["--cert", m.client.cert, "--key", m.client.key, ...base]);
      assert.equal(good.code, 0, good.stderr);
      const body = JSON.parse(good.stdout);
      assert.equal(body.url, url);
      assert.equal(body.hostname, "127.0.0.1");
      // Keep-alive over the client-certificate path.
      const twice = await curl([
        "--cert",
        m.client.cert,
        "--key",
        m.client.key,
        "--cacert",
        m.root.cert,
        url,
        url,
      ]);
      assert.equal(twice.stdout.split('"url"').length - 1, 2, twice.stdout);
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "--ssl-verify-mode 1: a certificate is optional, but a bad one is refused",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const server = await startServer([
      "--workers",
      "1",
      "--port",
      "0",
      ...tlsArgs(m),
      "--ssl-verify-mode",
      "1",
      "--ssl-ca-file",
      m.clients.cert,
      echoApp,
    ]);
    try {
      const url = `https://localhost:${server.port}/optional`;
      const base = ["--cacert", m.root.cert, url];
      assert.equal((await curl(base)).code, 0);
      assert.equal((await curl(["--cert", m.client.cert, "--key", m.client.key, ...base])).code, 0);
      assert.notEqual(
        (await curl(["--cert", m.stranger.cert, "--key", m.stranger.key, ...base])).code,
        0,
      );
      assert.equal((await server.stop()).code, 0);
    } finally {
      server.kill("SIGKILL");
    }
  },
});

Deno.test({
  name: "client-certificate options that cannot work are usage errors, never ignored",
  ignore: !tools,
  async fn() {
    const m = await setup();
    const noCa = await runCli(["--port", "0", ...tlsArgs(m), "--ssl-verify-mode", "1", echoApp]);
    assert.equal(noCa.code, 2);
    assert.match(noCa.stderr, /--ssl-verify-mode: needs --ssl-client-ca-file/);
    const noSsl = await runCli(["--port", "0", "--ssl-verify-mode", "3", echoApp]);
    assert.equal(noSsl.code, 2);
    assert.match(noSsl.stderr, /--ssl-verify-mode: given without --ssl/);
    const noPeer = await runCli([
      "--port",
      "0",
      ...tlsArgs(m),
      "--ssl-verify-mode",
      "2",
      "--ssl-ca-file",
      m.clients.cert,
      echoApp,
    ]);
    assert.equal(noPeer.code, 2);
    assert.match(noPeer.stderr, /lacks VERIFY_PEER/);
  },
});

Deno.test({
  name: "cleanup",
  ignore: !tools,
  async fn() {
    if (material !== undefined) await Deno.remove((await material).dir, { recursive: true });
  },
});
