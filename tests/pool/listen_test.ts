/**
 * How workers share their port: `--port 0` with several workers in both listen modes, and what
 * the supervisor's own hold on the shared socket (`shared` mode) guarantees: no other process
 * can join the port, and connections wait rather than being refused while no worker runs.
 */

import assert from "node:assert/strict";
import { Client, getOnce } from "../_helpers/load_client.ts";
import { appArgs, fixtures, withServer, workerIds } from "../_helpers/supervisor.ts";

/** Tries `Deno.listen({ reusePort: true })` on `port` from another process; returns its output. */
async function hijack(port: number): Promise<string> {
  const code =
    `try { Deno.listen({ hostname: "0.0.0.0", port: ${port}, reusePort: true }); console.log("bound"); }` +
    ` catch (error) { console.log(error.name); }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

for (const mode of ["shared", "reuseport"]) {
  Deno.test(`--listen-mode ${mode} with --port 0: every worker listens on the one port`, async () => {
    const args = [
      "--port",
      "0",
      "--workers",
      "3",
      "--listen-mode",
      mode,
      `${fixtures}versioned.ts`,
    ];
    await withServer(args, async (server) => {
      await server.waitFor(/worker 3 started/);
      const ids = await workerIds(server.port);
      assert.ok(ids.size >= 2, `only ${ids.size} worker(s) answered`);
      assert.doesNotMatch(server.stderr(), /could not start|AddrInUse/);
      if (mode === "shared") assert.equal(await hijack(server.port), "AddrInUse");
    });
  });
}

Deno.test("shared mode: while no worker runs, connections wait for the next one instead of being refused", async () => {
  await withServer(["--port", "0", "--workers", "1", ...appArgs], async (server) => {
    const before = (await getOnce(server.port, "/exit")).body;
    await server.waitFor(/worker 1 crashed/);
    // The only worker is gone; its replacement is not up yet (back-off 0.25 s, then loading).
    const reply = await getOnce(server.port, "/", 5000);
    assert.equal(reply.status, 200);
    assert.notEqual(reply.body, before);
  });
});

Deno.test("shared mode: a burst of keep-alive connections is spread over the workers", async () => {
  const args = ["--port", "0", "--workers", "4", `${fixtures}versioned.ts`];
  await withServer(args, async (server) => {
    await server.waitFor(/worker 4 started/);
    const clients = await Promise.all(
      Array.from({ length: 64 }, () => Client.connect(server.port)),
    );
    try {
      const perWorker = new Map<string, number>();
      await Promise.all(clients.map(async (client) => {
        const id = (await client.get("/")).body;
        perWorker.set(id, (perWorker.get(id) ?? 0) + 1);
      }));
      const counts = [...perWorker.values()];
      // Without the fair-share gate, one worker could take nearly all 64.
      assert.equal(counts.length, 4, `connections per worker: ${counts.join(", ")}`);
      assert.ok(Math.min(...counts) >= 8, `connections per worker: ${counts.join(", ")}`);
    } finally {
      for (const client of clients) client.close();
    }
  });
});
