/**
 * Workers that grow or go silent (issue 14, item 6): `--max-worker-memory` replaces a worker
 * whose heap passed it, replacement first, while every request is answered; `--worker-timeout`
 * sets how long a silent worker is given.
 */

import assert from "node:assert/strict";
import { Client, getOnce } from "../_helpers/load_client.ts";
import { appArgs, withServer } from "../_helpers/supervisor.ts";
import { OptionError, parseCliArgs, resolveOptions } from "../../lib/options/mod.ts";

Deno.test("--worker-timeout and --max-worker-memory: parsed and checked alike on the command line and in serve()", () => {
  const cli = (...argv: string[]) => resolveOptions(parseCliArgs([...argv, "app.ts"]).options);
  assert.equal(cli("--worker-timeout", "2.5").workerTimeout, 2.5);
  assert.equal(cli("--max-worker-memory", "512m").maxWorkerMemory, 512 * 1024 * 1024);
  assert.equal(cli("--max-worker-memory", "0").maxWorkerMemory, Infinity);
  assert.equal(resolveOptions({ app: "app.ts", maxWorkerMemory: 1024 }).maxWorkerMemory, 1024);
  for (
    const bad of [["--worker-timeout", "0"], ["--worker-timeout", "x"], [
      "--max-worker-memory",
      "lots",
    ]]
  ) {
    assert.throws(
      () => cli(...bad),
      (error: unknown) => error instanceof OptionError && error.message.includes(bad[0]),
      bad.join(" "),
    );
  }
  assert.throws(() => resolveOptions({ app: "app.ts", workerTimeout: -1 }), OptionError);
});

Deno.test("--max-worker-memory: a leaking worker is retired gracefully once its replacement listens (issue 14, item 6)", async () => {
  const args = ["--port", "0", "--workers", "2", "--max-worker-memory", "48m", ...appArgs];
  await withServer(args, async (server) => {
    await server.waitFor(/worker 2 started/);
    const client = await Client.connect(server.port);
    const id = (await client.get("/hold?mb=80")).body;
    const asked = performance.now();
    // Every request is answered meanwhile, by one worker or the other.
    while (!/worker \d+ retiring: its heap passed --max-worker-memory/.test(server.stderr())) {
      assert.ok(performance.now() - asked < 8000, `not replaced:\n${server.stderr()}`);
      assert.equal((await getOnce(server.port, "/", 3000)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const log = server.stderr();
    const match = log.match(
      /worker (\d+) is to be replaced: its heap \((\d+) MiB\) passed --max-worker-memory \(48 MiB\)/,
    );
    assert.ok(match, log);
    assert.ok(Number(match[2]) >= 80, `heap reported: ${match[2]} MiB`);
    // Its replacement listened before it stopped accepting.
    assert.match(
      log,
      new RegExp(`is to be replaced[^]*worker 3 started[^]*worker ${match[1]} retiring`),
    );
    // The connection it had gets its answer, then Connection: close.
    const last = await client.get("/");
    assert.equal(last.body, id);
    assert.ok(last.close);
    client.close();
    await server.waitFor(new RegExp(`worker ${match[1]} retired`));
    for (let i = 0; i < 10; i++) assert.notEqual((await getOnce(server.port)).body, id);
  });
});

Deno.test("--worker-timeout: a silent worker is given that long, then replaced", async () => {
  const args = [
    "--port",
    "0",
    "--workers",
    "2",
    "--worker-timeout",
    "3",
    "--graceful-timeout",
    "1",
    ...appArgs,
  ];
  await withServer(args, async (server) => {
    await server.waitFor(/worker 2 started/);
    await getOnce(server.port, "/hang");
    const hung = performance.now();
    await server.waitFor(/has not answered heartbeats for \d+ s \(--worker-timeout\)/, 10_000);
    const after = performance.now() - hung;
    // Heartbeats go out each second: detection comes between the timeout and a beat later.
    assert.ok(after >= 2000 && after < 6000, `detected after ${Math.round(after)} ms`);
    await server.waitFor(/worker 3 started/);
  });
});
