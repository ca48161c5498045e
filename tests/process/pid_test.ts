/**
 * `--pid` without `-D` (defect 10 of the original): created with the server's id, refused while
 * a live process owns it, replaced when stale, removed at exit — and not left behind by a start
 * that fails.
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import { echoApp, eventually, exists, runCli } from "../_helpers/listen.ts";
import { run } from "../_helpers/run.ts";

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("--pid holds the server's id while it runs and is removed at exit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-pid-" });
  const pidFile = `${dir}/server.pid`;
  const server = await startServer(["--workers", "1", "--port", "0", "--pid", pidFile, echoApp]);
  try {
    assert.equal(await Deno.readTextFile(pidFile), `${server.process.pid}\n`);
    assert.equal((await server.stop()).code, 0);
    assert.ok(!exists(pidFile), "the pid file is left behind");
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--pid: refused while its process lives; a stale or empty one is replaced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-pid-" });
  const pidFile = `${dir}/server.pid`;
  try {
    // This test's own process is alive.
    await Deno.writeTextFile(pidFile, `${Deno.pid}\n`);
    const refused = await runCli(["--workers", "1", "--port", "0", "--pid", pidFile, echoApp]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `^starlight: --pid ${pidFile}: the server with pid ${Deno.pid} is still running$`,
        "m",
      ),
    );
    assert.equal(await Deno.readTextFile(pidFile), `${Deno.pid}\n`);

    for (const content of [`${await deadPid()}\n`, ""]) {
      await Deno.writeTextFile(pidFile, content);
      const server = await startServer([
        "--workers",
        "1",
        "--port",
        "0",
        "--pid",
        pidFile,
        echoApp,
      ]);
      try {
        assert.equal(await Deno.readTextFile(pidFile), `${server.process.pid}\n`);
        assert.equal((await server.stop()).code, 0);
        assert.ok(!exists(pidFile));
      } finally {
        server.kill("SIGKILL");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--pid: a start that fails leaves no pid file; a killed server's file is stale next time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-pid-" });
  const pidFile = `${dir}/server.pid`;
  try {
    const failed = await runCli([
      "--workers",
      "1",
      "--port",
      "0",
      "--pid",
      pidFile,
      `${dir}/missing-app.ts`,
    ]);
    assert.equal(failed.code, 1);
    assert.ok(!exists(pidFile), "a failed start left its pid file");

    const killed = await startServer(["--workers", "1", "--port", "0", "--pid", pidFile, echoApp]);
    killed.kill("SIGKILL");
    await killed.exited();
    assert.ok(exists(pidFile));
    const next = await startServer(["--workers", "1", "--port", "0", "--pid", pidFile, echoApp]);
    try {
      assert.equal(await Deno.readTextFile(pidFile), `${next.process.pid}\n`);
      // The pid file is the server's: TERM through it stops the server.
      const pid = Number((await Deno.readTextFile(pidFile)).trim());
      assert.equal((await run("kill", ["-TERM", String(pid)])).code, 0);
      assert.equal((await next.exited()).code, 0);
      await eventually(() => !exists(pidFile), "pid file removal");
    } finally {
      next.kill("SIGKILL");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
