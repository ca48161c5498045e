/**
 * Workers that crash, exit by themselves, hang, or fail at start: detected, replaced, never
 * taking the server down; several at once refill the pool (defect 2 of the original); a crash
 * loop backs off.
 */

import assert from "node:assert/strict";
import { Client, getOnce } from "../_helpers/load_client.ts";
import { appArgs, count, fixtures, withServer, workerIds } from "../_helpers/supervisor.ts";

/** A keep-alive connection served by the worker with id `id` (connections land at random). */
async function connectTo(port: number, id: string): Promise<Client> {
  for (let i = 0; i < 40; i++) {
    const client = await Client.connect(port);
    if ((await client.get("/")).body === id) return client;
    client.close();
  }
  throw new Error(`no connection landed on worker ${id}`);
}

Deno.test("an uncaught error: the worker finishes its other requests and is replaced", async () => {
  await withServer(["--port", "0", "--workers", "2", ...appArgs], async (server) => {
    await server.waitFor(/worker 2 started/);
    const first = await Client.connect(server.port);
    const id = (await first.get("/")).body;
    const other = await connectTo(server.port, id);
    const slow = other.get("/slow?ms=800");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await first.get("/crash")).body, id);
    await server.waitFor(/worker \d+ crashed[^\n]*: uncaught Error: boom from \/crash/);
    // The crashed worker's request in flight still completes.
    const reply = await slow;
    assert.equal(reply.body, id);
    assert.ok(reply.close);
    await server.waitFor(/worker 3 started/);
    for (let i = 0; i < 10; i++) assert.notEqual((await getOnce(server.port)).body, id);
    // The error went through the server log, not Deno's own uncaught-error report.
    assert.doesNotMatch(server.stderr(), /error: Uncaught/);
    first.close();
    other.close();
  });
});

Deno.test("Deno.exit() and self.close() in the app are noticed at once and replaced", async () => {
  await withServer(["--port", "0", "--workers", "2", ...appArgs], async (server) => {
    await server.waitFor(/worker 2 started/);
    for (
      const [path, reason, next] of [["/exit", "Deno.exit\\(3\\)", 3], [
        "/close",
        "self.close\\(\\)",
        4,
      ]] as const
    ) {
      const asked = performance.now();
      await getOnce(server.port, path);
      await server.waitFor(
        new RegExp(`worker \\d+ crashed[^\\n]*: the app called ${reason}`),
        3000,
      );
      // Well before a heartbeat timeout (5 s).
      assert.ok(performance.now() - asked < 1500);
      await server.waitFor(new RegExp(`worker ${next} started`));
      assert.equal((await getOnce(server.port)).status, 200);
    }
  });
});

Deno.test("a worker stuck in an endless loop is detected and replaced; the server keeps answering", async () => {
  await withServer(
    [
      "--port",
      "0",
      "--workers",
      "2",
      "--graceful-timeout",
      "1",
      "--worker-timeout",
      "2",
      ...appArgs,
    ],
    async (server) => {
      await server.waitFor(/worker 2 started/);
      const hung = (await getOnce(server.port, "/hang")).body;
      const asked = performance.now();
      // The app starts its loop 20 ms after answering; until then it may still take a request.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The other worker answers every new connection meanwhile.
      while (!/has not answered heartbeats/.test(server.stderr())) {
        assert.ok(performance.now() - asked < 9000, "the hung worker was not detected");
        const reply = await getOnce(server.port, "/", 3000);
        assert.notEqual(reply.body, hung);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(
        server.stderr(),
        /stuck in synchronous code[^\n]*until the server process restarts/,
      );
      await server.waitFor(/worker 3 started/);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add((await getOnce(server.port)).body);
      assert.ok(!ids.has(hung));
      // Shutdown cannot stop the stuck thread, but the process still exits (0, checked below).
    },
  );
});

Deno.test("several workers dying at once: the pool is back to full size (defect 2)", async () => {
  await withServer(["--port", "0", "--workers", "3", ...appArgs], async (server) => {
    await server.waitFor(/worker 3 started/);
    await getOnce(server.port, "/crash-all");
    await server.waitFor(/worker 6 started/, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const log = server.stderr();
    assert.equal(count(log, /worker [123] crashed/), 3, log);
    assert.equal(count(log, /worker \d+ started/), 6, log);
    // One wave of deaths is one failure for the back-off, not three.
    assert.doesNotMatch(log, /[23] failure\(s\) in a row/);
    const ids = await workerIds(server.port);
    assert.equal(ids.size, 3, `only ${ids.size} worker(s) answer`);
  });
});

Deno.test("a worker that fails at start is retried with exponential back-off, never in a tight loop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-crashloop-" });
  const marker = `${dir}/marker`;
  await Deno.copyFile(`${fixtures}marker_app.ts`, `${dir}/app.ts`);
  try {
    await withServer(["--port", "0", "--workers", "2", `${dir}/app.ts`], async (server) => {
      await server.waitFor(/worker 2 started/);
      await Deno.writeTextFile(marker, "");
      await getOnce(server.port, "/crash");
      // Failures come at 0.25, 0.5, 1 s intervals while the other worker keeps answering.
      const began = performance.now();
      while (count(server.stderr(), /could not start/) < 3) {
        assert.ok(performance.now() - began < 6000, "no back-off retries seen");
        assert.equal((await getOnce(server.port, "/", 3000)).status, 200);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const failures = [...server.stderr().matchAll(/next attempt in ([\d.]+) s, (\d+) failure/g)];
      const delays = failures.map((m) => Number(m[1]));
      for (let i = 1; i < delays.length; i++) {
        assert.equal(delays[i], delays[i - 1] * 2, delays.join(", "));
      }
      // Each failure is one log line with the app's own reason.
      assert.match(
        server.stderr(),
        /worker \d+ could not start \(next attempt in [\d.]+ s, \d+ failure\(s\) in a row\): [^\n]*marker file present/,
      );
      await Deno.remove(marker);
      await server.waitFor(/worker \d+ started(?![^]*could not start)/, 10_000);
      const attempts = count(server.stderr(), /could not start/);
      assert.ok(attempts <= 5, `${attempts} attempts: a tight loop`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
