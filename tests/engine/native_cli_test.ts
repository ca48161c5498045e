/**
 * `--engine native` through the command line, as users run it: the examples serve, a HUP
 * restart under load loses nothing, TERM finishes what is in flight, the access log is written,
 * the sandbox still binds the app, and both WebSocket upgrades are refused in one log line each
 * (`lib/engine/native/websocket.ts` says why).
 */

import assert from "node:assert/strict";
import { failureCount, getOnce, runLoad } from "../_helpers/load_client.ts";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { count, fixtures } from "../_helpers/supervisor.ts";
import { fetchWithin } from "../_helpers/examples.ts";

const NATIVE = ["--engine", "native", "--host", "127.0.0.1", "--port", "0"];

async function withNative(
  args: string[],
  body: (server: RunningServer, base: string) => Promise<void>,
): Promise<void> {
  const server = await startServer([...NATIVE, ...args]);
  // The CLI prints the banner just before it installs its signal handlers.
  await new Promise((resolve) => setTimeout(resolve, 150));
  try {
    await body(server, `http://127.0.0.1:${server.port}`);
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
  } finally {
    server.kill("SIGKILL");
    await server.exited();
  }
}

Deno.test("native CLI: examples/hello.ts and examples/json_api.ts serve as on the TS engine", async () => {
  await withNative(["--workers", "2", `${repoRoot}examples/hello.ts`], async (_server, base) => {
    const response = await fetchWithin(`${base}/`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "Hello, World!\n");
  });
  await withNative(["--workers", "1", `${repoRoot}examples/json_api.ts`], async (_server, base) => {
    const health = await fetchWithin(`${base}/api/health`);
    assert.equal(health.status, 200);
    assert.match(health.headers.get("content-type") ?? "", /^application\/json/);
    await health.body?.cancel();
    const wrong = await fetchWithin(`${base}/api/health`, { method: "DELETE" });
    assert.equal(wrong.status, 405);
    await wrong.body?.cancel();
  });
});

Deno.test("native CLI: Deno.upgradeWebSocket is refused with a 500 and a line saying why (examples/ws_deno_serve.ts)", async () => {
  await withNative(
    ["--workers", "1", `${repoRoot}examples/ws_deno_serve.ts`],
    async (server, base) => {
      const socket = new WebSocket(base.replace("http", "ws") + "/ws");
      const failed = await new Promise<boolean>((resolve) => {
        socket.onopen = () => resolve(false);
        socket.onerror = () => resolve(true);
      });
      assert.equal(failed, true, "the handshake fails");
      await server.waitFor(/Deno.upgradeWebSocket does not work with --engine native/, 5000);
      const page = await fetchWithin(`${base}/`);
      assert.equal(page.status, 200, "plain HTTP on the same app is served");
      await page.body?.cancel();
    },
  );
});

Deno.test("native CLI: Starlight's upgradeWebSocket is refused with a 500 and a line saying what to use", async () => {
  await withNative(
    ["--workers", "1", `${repoRoot}tests/fixtures/websocket/echo_app.ts`],
    async (server, base) => {
      const response = await fetchWithin(`${base}/echo`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      assert.equal(response.status, 500);
      await response.body?.cancel();
      await server.waitFor(/upgradeWebSocket from Starlight needs --engine ts/, 5000);
    },
  );
});

Deno.test("native CLI: 3 HUP restarts under keep-alive load lose no request", async () => {
  await withNative(
    ["--workers", "2", "--keepalive-timeout", "1", `${fixtures}versioned.ts`],
    async (server) => {
      await server.waitFor(/worker 2 started/);
      const stop = new AbortController();
      const keepAlive = runLoad({ port: server.port, clients: 4 }, stop.signal);
      const perRequest = runLoad({ port: server.port, clients: 2, closeEach: true }, stop.signal);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 1; i <= 3; i++) {
        server.kill("SIGHUP");
        await server.waitFor(new RegExp(`(restart finished[^\\n]*\\n[^]*){${i}}`), 15_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      stop.abort();
      const [kept, single] = await Promise.all([keepAlive, perRequest]);
      assert.equal(failureCount(kept), 0, `keep-alive failures: ${kept.examples.join("; ")}`);
      assert.equal(failureCount(single), 0, `per-request failures: ${single.examples.join("; ")}`);
      assert.ok(kept.ok > 100 && single.ok > 20, `too little load: ${kept.ok} + ${single.ok}`);
      const log = server.stderr();
      assert.equal(count(log, /restart finished: 2 worker\(s\) replaced/), 3);
      assert.doesNotMatch(log, /crashed|could not start/);
    },
  );
});

Deno.test("native CLI: TERM answers the request in flight, then exits 0", async () => {
  const server = await startServer([...NATIVE, "--workers", "1", `${fixtures}app.ts`]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const slow = getOnce(server.port, "/slow?ms=600");
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.kill("SIGTERM");
    const reply = await slow;
    assert.equal(reply.status, 200);
    const status = await server.exited();
    assert.equal(status.code, 0);
    assert.match(server.stderr(), /shutdown finished/);
  } finally {
    server.kill("SIGKILL");
    await server.exited();
  }
});

Deno.test("native CLI: --max-reqs-per-child replaces the worker, counted per request", async () => {
  await withNative(
    ["--workers", "1", "--max-reqs-per-child", "5", `${fixtures}versioned.ts`],
    async (server) => {
      // Worker 1 serves on until its replacement listens: keep asking until worker 2 retires.
      for (let i = 0; i < 500 && !/worker 3 started/.test(server.stderr()); i++) {
        assert.equal((await getOnce(server.port)).status, 200);
      }
      await server.waitFor(/worker 2 retiring: its limit of 5 requests was reached/, 10_000);
      await server.waitFor(/worker 3 started/, 10_000);
    },
  );
});

Deno.test("native CLI: the access log has one combined-format line per request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-native-" });
  try {
    const log = `${dir}/access.log`;
    await withNative(
      ["--workers", "1", "--access-log", log, `${repoRoot}examples/hello.ts`],
      async (_server, base) => {
        for (const path of ["/a", "/b?c=d"]) {
          const response = await fetchWithin(`${base}${path}`, {
            headers: { "user-agent": "native-test" },
          });
          await response.text();
        }
      },
    );
    const lines = (await Deno.readTextFile(log)).trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[1],
      /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/b\?c=d HTTP\/1\.1" 200 14 "-" "native-test"$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("native CLI: the sandbox still binds the app; a denial is a 500 and one log line", async () => {
  await withNative(
    ["--workers", "1", `${repoRoot}tests/fixtures/permissions/probe_app.ts`],
    async (server, base) => {
      const probe = await fetchWithin(`${base}/?op=read&arg=/etc/hostname`);
      const answer = await probe.json();
      assert.equal(answer.ok, false);
      assert.equal(answer.error, "NotCapable");
      const uncaught = await fetchWithin(`${base}/?op=uncaught`);
      assert.equal(uncaught.status, 500);
      await uncaught.body?.cancel();
      await server.waitFor(/permission denied to the app: .*\/etc\/hostname/, 5000);
    },
  );
});
