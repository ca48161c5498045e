/**
 * Worker lifecycle: request limits (with a random spread), the app's own retirement, no spawn
 * storm with an infinite limit (defect 4 of the original), TTIN/TTOU.
 */

import assert from "node:assert/strict";
import type { RunningServer } from "../_helpers/server.ts";
import { Client, getOnce } from "../_helpers/load_client.ts";
import { appArgs, count, withServer, workerIds } from "../_helpers/supervisor.ts";

/**
 * With one worker: sends requests on keep-alive connections until `workers` workers have been
 * retired, waiting after each worker's last response (`Connection: close`) until it is gone, so
 * that no request reaches a worker past its limit. Returns the requests each worker served.
 */
async function servedPerWorker(server: RunningServer, workers: number): Promise<number[]> {
  const served: number[] = [];
  for (let retired = 1; retired <= workers; retired++) {
    const client = await Client.connect(server.port);
    let id = "";
    let n = 0;
    for (;;) {
      const reply = await client.get("/");
      if (id === "") id = reply.body;
      assert.equal(reply.body, id, "a keep-alive connection stays on its worker");
      n++;
      if (reply.close) break;
      assert.ok(n < 100, "the worker never reached its limit");
    }
    client.close();
    served.push(n);
    await server.waitFor(new RegExp(`(worker \\d+ retired[^]*){${retired}}`));
  }
  return served;
}

Deno.test("--max-reqs-per-child: each worker serves exactly its limit, then a new one takes over", async () => {
  await withServer(
    ["--port", "0", "--workers", "1", "--max-reqs-per-child", "3", ...appArgs],
    async (server) => {
      const served = await servedPerWorker(server, 4);
      assert.deepEqual(served, [3, 3, 3, 3]);
      const log = server.stderr();
      assert.equal(count(log, /worker \d+ started \(request limit 3\)/), 5);
      assert.match(log, /worker 1 retiring: its limit of 3 requests was reached/);
      // The only worker keeps accepting until its replacement listens: capacity never drops to zero.
      assert.match(
        log,
        /worker 1 keeps accepting until its replacement listens[^]*worker 2 started[^]*worker 1 retiring/,
      );
    },
  );
});

Deno.test("--min-reqs-per-child: limits are drawn from [min, max] and honoured", async () => {
  const args = [
    "--port",
    "0",
    "--workers",
    "1",
    "--min-reqs-per-child",
    "2",
    "--max-reqs-per-child",
    "12",
  ];
  await withServer([...args, ...appArgs], async (server) => {
    const served = await servedPerWorker(server, 5);
    const limits = [...server.stderr().matchAll(/worker \d+ started \(request limit (\d+)\)/g)].map(
      (m) => Number(m[1]),
    );
    assert.deepEqual(served, limits.slice(0, 5));
    for (const limit of limits) assert.ok(limit >= 2 && limit <= 12, `limit ${limit}`);
    assert.ok(new Set(limits).size > 1, `limits do not vary: ${limits.join(", ")}`);
  });
});

Deno.test("retireWorker(): the response says Connection: close and a fresh worker takes over", async () => {
  await withServer(
    ["--port", "0", "--workers", "2", "--keepalive-timeout", "30", ...appArgs],
    async (server) => {
      await server.waitFor(/worker 2 started/);
      const client = await Client.connect(server.port);
      const id = (await client.get("/")).body;
      const idle = await Client.connect(server.port);
      const reply = await client.get("/retire");
      assert.equal(reply.body, `${id} true`);
      assert.ok(reply.close);
      await server.waitFor(/worker \d+ retiring: the app called retireWorker\(\)/);
      await server.waitFor(/worker 3 started/);
      for (let i = 0; i < 10; i++) assert.notEqual((await getOnce(server.port)).body, id);
      idle.close();
    },
  );
});

Deno.test("max inf with --min-reqs-per-child: no spawn storm, workers stay (defect 4)", async () => {
  for (const max of ["inf", "0"]) {
    const args = [
      "--port",
      "0",
      "--workers",
      "2",
      "--max-reqs-per-child",
      max,
      "--min-reqs-per-child",
      "5",
    ];
    await withServer([...args, ...appArgs], async (server) => {
      await server.waitFor(/worker 2 started/);
      const client = await Client.connect(server.port);
      for (let i = 0; i < 40; i++) await client.get("/");
      for (let i = 0; i < 20; i++) await getOnce(server.port);
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const log = server.stderr();
      assert.equal(count(log, /worker \d+ started/), 2, log);
      assert.doesNotMatch(log, /request limit|retiring|crashed/);
    });
  }
});

Deno.test("TTIN and TTOU add and remove one worker each, never below one", async () => {
  await withServer(["--port", "0", "--workers", "1", ...appArgs], async (server) => {
    server.kill("SIGTTIN");
    await server.waitFor(/worker 2 started/);
    server.kill("SIGTTIN");
    await server.waitFor(/worker 3 started/);
    assert.match(server.stderr(), /worker count raised to 2[^]*worker count raised to 3/);
    assert.equal((await workerIds(server.port)).size, 3);
    for (const expected of [2, 1]) {
      server.kill("SIGTTOU");
      await server.waitFor(new RegExp(`worker count lowered to ${expected}`));
    }
    server.kill("SIGTTOU");
    await server.waitFor(/worker count stays at 1/);
    await server.waitFor(/(worker \d+ retired[^]*){2}/);
    const left = new Set<string>();
    for (let i = 0; i < 20; i++) left.add((await getOnce(server.port)).body);
    assert.equal(left.size, 1);
    assert.equal(count(server.stderr(), /worker \d+ started/), 3);
  });
});
