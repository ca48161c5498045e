/**
 * What app code can reach of the server through its worker (issue 13, items 11–13): no signal
 * to the server's own process, no forged or flooding log lines, no CacheStorage outside the
 * write grant; and TTIN has a ceiling.
 */

import assert from "node:assert/strict";
import { getOnce } from "../_helpers/load_client.ts";
import { appArgs, count, withServer, workerIds } from "../_helpers/supervisor.ts";

Deno.test("Deno.kill and process.kill on the server's own pid or group fail with NotCapable; the server serves on (issue 13, item 11)", async () => {
  await withServer(["--port", "0", "--workers", "2", ...appArgs], async (server) => {
    await server.waitFor(/worker 2 started/);
    for (const how of ["deno", "process"]) {
      for (const signal of ["SIGTERM", "SIGTTIN", "SIGHUP"]) {
        const reply = await getOnce(server.port, `/kill?how=${how}&signal=${signal}`);
        assert.match(reply.body, / NotCapable$/, `${how} ${signal}`);
      }
    }
    const group = await getOnce(server.port, "/kill?how=deno&pid=group&signal=SIGTERM");
    assert.match(group.body, / NotCapable$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await getOnce(server.port)).status, 200);
    const log = server.stderr();
    assert.doesNotMatch(log, /shutdown begun|worker count raised|restart begun/);
  });
});

Deno.test("TTIN stops at 4 × CPUs (issue 13, item 11)", async () => {
  const ceiling = 4 * navigator.hardwareConcurrency;
  await withServer(["--port", "0", "--workers", "1", ...appArgs], async (server) => {
    // One at a time: the kernel merges a signal sent while the same one is pending.
    for (let count = 2; count <= ceiling; count++) {
      server.kill("SIGTTIN");
      await server.waitFor(new RegExp(`worker count raised to ${count}\\b`));
    }
    server.kill("SIGTTIN");
    await server.waitFor(new RegExp(`worker count stays at ${ceiling}: the ceiling is ${ceiling}`));
    await server.waitFor(new RegExp(`worker ${ceiling} started`), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(count(server.stderr(), /worker \d+ started/), ceiling);
    assert.ok((await workerIds(server.port, 40)).size >= 2);
  });
});

Deno.test("log and access lines a worker posts are escaped and rate-limited: no forged line (issue 13, item 12)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-forge-" });
  const accessLog = `${dir}/access.log`;
  let log = "";
  try {
    const args = ["--port", "0", "--workers", "1", "--access-log", accessLog, ...appArgs];
    await withServer(args, async (server) => {
      await getOnce(server.port, "/forge?what=access&n=3");
      await getOnce(server.port, "/forge?what=log&n=5000");
      await server.waitFor(/log or access line\(s\) dropped: over the rate limit/, 5000);
      log = server.stderr();
    });
    const access = await Deno.readTextFile(accessLog);
    assert.doesNotMatch(access, /^FORGED/m);
    assert.equal(count(access, /\\x0aFORGED access line/), 3);
    assert.doesNotMatch(log, /^FORGED/m);
    const posted = count(log, /^ {4}FORGED log line$/m);
    assert.ok(posted > 0 && posted < 500, `${posted} of 5,000 log lines of 1 KB written`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheStorage is gone for an app without the write permission, there with --allow-write (issue 13, item 13)", async () => {
  await withServer(["--port", "0", "--workers", "1", ...appArgs], async (server) => {
    assert.match((await getOnce(server.port, "/caches")).body, / undefined$/);
  });
  const write = ["--allow-write", "--port", "0", "--workers", "1", ...appArgs];
  await withServer(write, async (server) => {
    assert.match((await getOnce(server.port, "/caches")).body, / object writable$/);
  });
});
