/**
 * UNIX and abstract sockets: served by every worker (through the supervisor's relay), the socket
 * file's life cycle (stale socket replaced, regular file and live socket refused, removed at exit,
 * never by a worker), and restarts without a refused connection.
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import {
  curl,
  echoApp,
  eventually,
  exists,
  have,
  loopbackListeners,
  runCli,
  staleSocket,
  unixRequest,
} from "../_helpers/listen.ts";

const haveCurl = have("curl");

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "starlight-unix-" });
}

Deno.test({
  name: "UNIX socket: concurrent curl clients are served by both workers; socket removed at exit",
  ignore: !haveCurl && (console.log("skipped: curl is not installed"), true),
  async fn() {
    const dir = await tempDir();
    const socket = `${dir}/app.sock`;
    const server = await startServer(["--workers", "2", "--socket", socket, echoApp]);
    try {
      await server.waitFor(/worker 2 started/);
      assert.match(server.stderr(), new RegExp(`http server listening at socket ${socket}\\n`));
      assert.ok(Deno.lstatSync(socket).isSocket);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => curl(["--unix-socket", socket, "http://localhost/busy"])),
      );
      const workers = new Set<string>();
      for (const result of results) {
        assert.equal(result.code, 0, result.stderr);
        const body = JSON.parse(result.stdout);
        assert.equal(body.url, "http://localhost/busy");
        assert.equal(body.transport, "unix");
        workers.add(body.worker);
      }
      assert.equal(workers.size, 2, `served by ${[...workers].join(", ")}`);
      assert.equal((await server.stop()).code, 0);
      assert.ok(!exists(socket), "the socket file is left behind");
    } finally {
      server.kill("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("UNIX socket: requests keep flowing through HUP restarts; a stale socket file is replaced", async () => {
  const dir = await tempDir();
  const socket = `${dir}/app.sock`;
  await staleSocket(socket);
  const server = await startServer(["--workers", "2", "--listen", socket, "--port", "0", echoApp]);
  const stop = new AbortController();
  try {
    assert.match(server.stderr(), /replaced the stale socket/);
    await server.waitFor(/listening at port/);
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop.signal.aborted) {
        const response = await unixRequest(
          socket,
          "GET /x HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
        )
          .catch((error) => String(error));
        if (response.startsWith("HTTP/1.1 200")) ok++;
        else failures.push(response.slice(0, 80));
      }
    })();
    for (let i = 1; i <= 2; i++) {
      server.kill("SIGHUP");
      await server.waitFor(new RegExp(`(restart finished[^\\n]*\\n[^]*){${i}}`), 15_000);
    }
    stop.abort();
    await load;
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `only ${ok} requests`);
    // The socket stays in place while workers come and go.
    assert.ok(Deno.lstatSync(socket).isSocket);
    assert.equal((await server.stop()).code, 0);
    assert.ok(!exists(socket));
  } finally {
    stop.abort();
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("UNIX socket: a regular file or a live socket in the way is a start-up error, left untouched", async () => {
  const dir = await tempDir();
  try {
    const file = `${dir}/not-a-socket`;
    await Deno.writeTextFile(file, "precious");
    const refused = await runCli(["--workers", "1", "--socket", file, echoApp]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`^starlight: socket ${file}: the path exists and is not a socket`, "m"),
    );
    assert.equal(await Deno.readTextFile(file), "precious");

    const live = `${dir}/live.sock`;
    const other = Deno.listen({ transport: "unix", path: live });
    try {
      const busy = await runCli(["--workers", "1", "--socket", live, echoApp]);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /another server is listening on it/);
      assert.ok(Deno.lstatSync(live).isSocket, "the live socket was removed");
    } finally {
      other.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("abstract socket (@name): served by the workers; nothing on the file system", async () => {
  const name = `starlight-test-${crypto.randomUUID()}`;
  const server = await startServer(["--workers", "2", "--listen", `@${name}`, echoApp]);
  try {
    assert.match(server.stderr(), new RegExp(`listening at socket @${name}\\n`));
    const response = await unixRequest(
      `\0${name}`,
      "GET /abs HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.match(response, /^HTTP\/1\.1 200/);
    assert.match(response, /"url":"http:\/\/a\/abs"/);
    assert.match(response, /"transport":"unix"/);
    assert.equal((await server.stop()).code, 0);
    await assert.rejects(Deno.connect({ transport: "unix", path: `\0${name}` }));
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("workers 0: the main thread serves the UNIX socket itself, with the same file rules", async () => {
  const dir = await tempDir();
  const socket = `${dir}/single.sock`;
  await staleSocket(socket);
  const server = await startServer(["--workers", "0", "--socket", socket, echoApp]);
  try {
    const response = await unixRequest(
      socket,
      "GET /one HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    );
    assert.match(response, /"worker":"main"/);
    assert.equal((await server.stop()).code, 0);
    await eventually(() => !exists(socket), "socket removal");
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the relay's loopback port serves nobody who lacks its token", async () => {
  const dir = await tempDir();
  const socket = `${dir}/guarded.sock`;
  const server = await startServer(["--workers", "1", "--socket", socket, echoApp]);
  try {
    // The loopback port the workers listen on for the relay: the only one this process has.
    const ports = loopbackListeners(server.process.pid);
    assert.ok(ports.length >= 1, "no relay listener found");
    for (const port of ports) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(
        new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n".padEnd(40, " ")),
      );
      const n = await conn.read(new Uint8Array(100)).catch(() => null);
      assert.equal(n, null, "the relay listener answered a stranger");
      conn.close();
    }
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stranger who connects to the relay port and sends nothing stalls no UNIX client (issue 13, item 15)", async () => {
  const dir = await tempDir();
  const socket = `${dir}/stalled.sock`;
  const server = await startServer(["--workers", "1", "--socket", socket, echoApp]);
  const strangers: Deno.Conn[] = [];
  try {
    const [port] = loopbackListeners(server.process.pid);
    assert.ok(port !== undefined, "no relay listener found");
    // They are first in the accept queue; before, each held the worker's accept for 1 s.
    for (let i = 0; i < 5; i++) {
      strangers.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const response = await unixRequest(
      socket,
      "GET /through HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    );
    const took = performance.now() - started;
    assert.match(response, /^HTTP\/1\.1 200/);
    assert.ok(took < 700, `the UNIX client waited ${took.toFixed(0)} ms`);
    // Each stranger is dropped, unanswered, within the preamble timeout.
    for (const stranger of strangers) {
      assert.equal(await stranger.read(new Uint8Array(8)).catch(() => null), null);
    }
    assert.equal((await server.stop()).code, 0);
  } finally {
    for (const stranger of strangers) stranger.close();
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
