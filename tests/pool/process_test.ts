/**
 * Process workers (`--isolation process`, issue 15): what only processes allow — a worker stuck
 * in synchronous code is killed and replaced, one that exhausts its heap dies alone, one
 * killed with SIGKILL is replaced like a crash, and no worker outlives its supervisor — and the
 * lifecycle they share with threads: HUP under load with no failed request, TERM, the sandbox.
 */

import assert from "node:assert/strict";
import { Client, failureCount, getOnce, runLoad } from "../_helpers/load_client.ts";
import { appArgs, withServer } from "../_helpers/supervisor.ts";
import { startServer } from "../_helpers/server.ts";

const isolated = ["--isolation", "process", "--port", "0"];

function migrateReq(): string {
  try {
    return Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_migrate_req").trim();
  } catch {
    return "unavailable";
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** The pid of the worker that answers on a new connection. */
async function workerPid(port: number): Promise<number> {
  return Number((await getOnce(port, "/pid")).body.split(" ")[1]);
}

Deno.test("process workers: each is a process of its own, not the server's", async () => {
  await withServer([...isolated, "--workers", "2", ...appArgs], async (server) => {
    const pid = await workerPid(server.port);
    assert.notEqual(pid, server.process.pid);
    assert.ok(alive(pid));
  });
});

Deno.test("process workers: a worker stuck in `while (true) {}` is killed within --worker-timeout + 5 s and replaced; other clients are served throughout", async () => {
  await withServer(
    [...isolated, "--workers", "2", "--worker-timeout", "2", ...appArgs],
    async (server) => {
      const stuck = await workerPid(server.port);
      // Ask that very worker to hang: a keep-alive connection stays on it.
      const client = await Client.connect(server.port);
      let hungPid = stuck;
      try {
        const reply = await client.get("/pid");
        hungPid = Number(reply.body.split(" ")[1]);
        await client.get("/hang");
      } finally {
        client.close();
      }
      // From here on it is stuck (the loop starts 20 ms after the answer): what it accepted
      // before is lost with it, as with any prefork server; what arrives now is not.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const hungAt = Date.now();
      const served: (number | string)[] = [];
      const load = (async () => {
        while (Date.now() - hungAt < 5000) {
          // One hashed to the stuck process waits until it is killed, then moves to another
          // socket of the port (net.ipv4.tcp_migrate_req).
          served.push(await getOnce(server.port, "/", 8000).then((r) => r.status, String));
        }
      })();
      const gone = await until(() => !alive(hungPid), 7000);
      const goneAfter = Date.now() - hungAt;
      await load;
      assert.ok(gone && goneAfter < 7000, `pid ${hungPid} alive ${goneAfter} ms after it hung`);
      // Without net.ipv4.tcp_migrate_req (a kernel or container that refuses it; the server
      // warns), connections queued on the stuck process are reset when it is killed.
      const migrates = migrateReq() === "1";
      const failed = served.filter((status) => status !== 200);
      assert.ok(served.length > 5, `${served}`);
      assert.ok(migrates ? failed.length === 0 : failed.length <= 8, `${served}`);
      await server.waitFor(/worker \d+ started/);
    },
  );
});

Deno.test("process workers: a heap bomb ends only its own process; the server keeps serving, and replaces it", async () => {
  const args = [...isolated, "--workers", "2", "--max-worker-memory", "64m", ...appArgs];
  await withServer(args, async (server) => {
    const client = await Client.connect(server.port);
    let bombed: number;
    try {
      bombed = Number((await client.get("/pid")).body.split(" ")[1]);
      await client.get("/bomb");
    } finally {
      client.close();
    }
    const during: (number | string)[] = [];
    const deadline = Date.now() + 20_000;
    while (alive(bombed) && Date.now() < deadline) {
      during.push(await getOnce(server.port, "/", 5000).then((r) => r.status, String));
    }
    assert.ok(!alive(bombed), "the bombed worker is gone");
    // A connection the bombing worker had accepted in the 20 ms before the bomb went off dies
    // with it, as it would in any prefork server; every other request is answered.
    assert.ok(during.filter((status) => status !== 200).length <= 1, `${during}`);
    const after: number[] = [];
    for (let i = 0; i < 10; i++) after.push((await getOnce(server.port, "/", 5000)).status);
    assert.deepEqual(after, Array(10).fill(200));
    assert.equal(server.process.pid !== undefined && alive(server.process.pid), true);
  });
});

Deno.test("process workers: kill -9 of a worker is a crash: it is replaced and serving goes on", async () => {
  await withServer([...isolated, "--workers", "1", ...appArgs], async (server) => {
    const pid = await workerPid(server.port);
    Deno.kill(pid, "SIGKILL");
    await server.waitFor(/killed by SIGKILL/, 5000);
    await server.waitFor(/worker 2 started/, 10_000);
    const reply = await getOnce(server.port, "/pid");
    assert.equal(reply.status, 200);
    assert.notEqual(Number(reply.body.split(" ")[1]), pid);
  });
});

Deno.test("process workers: 3 HUP restarts under keep-alive load fail no request", async () => {
  await withServer([...isolated, "--workers", "2", ...appArgs], async (server) => {
    const stop = new AbortController();
    const load = runLoad({ port: server.port, clients: 8 }, stop.signal);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      server.kill("SIGHUP");
      await server.waitFor(new RegExp(`restart finished[^]*`.repeat(i + 1)), 20_000);
    }
    stop.abort();
    const result = await load;
    assert.ok(result.ok > 100, `only ${result.ok} requests`);
    assert.equal(failureCount(result), 0, result.examples.join("\n"));
  });
});

Deno.test("process workers: the sandbox holds (a read outside the grant is NotCapable) and Deno.kill of the supervisor is refused", async () => {
  await withServer([...isolated, "--workers", "1", ...appArgs], async (server) => {
    // The worker's own pid is refused, and so is the supervisor's (its parent), with either API.
    for (const path of ["how=deno&pid=self", "how=deno&pid=parent", "how=process&pid=parent"]) {
      assert.match((await getOnce(server.port, `/kill?${path}`)).body, /NotCapable/, path);
    }
  });
  const site = await Deno.makeTempDir({ prefix: "starlight-process-sandbox-" });
  try {
    await Deno.writeTextFile(
      `${site}/app.ts`,
      `export default { fetch() {
      try { Deno.readTextFileSync("/etc/hostname"); return new Response("read"); }
      catch (error) { return new Response(error.name); }
    } };`,
    );
    await withServer([...isolated, "--workers", "1", `${site}/app.ts`], async (server) => {
      assert.equal((await getOnce(server.port, "/")).body, "NotCapable");
    });
  } finally {
    await Deno.remove(site, { recursive: true });
  }
});

Deno.test("process workers: TERM ends every worker process and the server exits 0; SIGKILL of the server leaves no worker behind", async () => {
  const server = await startServer([...isolated, "--workers", "2", ...appArgs]);
  try {
    const pids = new Set<number>();
    for (let i = 0; i < 10 && pids.size < 2; i++) pids.add(await workerPid(server.port));
    assert.equal((await server.stop()).code, 0);
    for (const pid of pids) assert.ok(await until(() => !alive(pid), 3000), `pid ${pid} left`);
  } finally {
    server.kill("SIGKILL");
  }
  const killed = await startServer([...isolated, "--workers", "2", ...appArgs]);
  const pid = await workerPid(killed.port);
  killed.kill("SIGKILL");
  await killed.exited();
  assert.ok(await until(() => !alive(pid), 5000), `worker ${pid} outlived its supervisor`);
});

Deno.test({
  name:
    "process workers with --user nobody: they serve as nobody, or the start is refused in one line saying why",
  ignore: Deno.uid() !== 0,
  async fn() {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-prompt",
        "--no-lock",
        new URL("../../mod.ts", import.meta.url).pathname,
        ...isolated,
        "--host",
        "127.0.0.1",
        "--workers",
        "1",
        "--user",
        "nobody",
        "--allow-run=id",
        new URL("../fixtures/process/load_uid.ts", import.meta.url).pathname,
      ],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(15_000),
    }).spawn();
    const reader = result.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/listening at port|starlight: /.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    if (/starlight: /.test(text)) {
      assert.match(text, /install deno where that user may run it, or use --isolation thread/);
      assert.equal((await result.status).code, 1);
      return;
    }
    const port = Number(/listening at port (\d+)/.exec(text)![1]);
    const seen = await (await fetch(`http://127.0.0.1:${port}/`)).json();
    assert.equal(seen.uidAtLoad, "65534");
    result.kill("SIGTERM");
    await result.status;
    await reader.cancel();
  },
});
