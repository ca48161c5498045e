/**
 * `-D`: the command returns once the daemon listens (exit 0, banner printed) or with its error
 * (exit 1); relative app and file paths work (defect 11); TERM through the pid file stops it and
 * removes the pid file.
 */

import assert from "node:assert/strict";
import { alive, bannerPorts, echoApp, eventually, exists, runCli } from "../_helpers/listen.ts";
import { run } from "../_helpers/run.ts";

Deno.test("-D with relative paths: ready when the command returns; TERM via the pid file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-daemon-" });
  await Deno.mkdir(`${dir}/run`);
  await Deno.mkdir(`${dir}/logs`);
  await Deno.copyFile(echoApp, `${dir}/app.ts`);
  let pid: number | undefined;
  try {
    const started = await runCli([
      "-D",
      "--workers",
      "1",
      "--port",
      "0",
      "--pid",
      "run/server.pid",
      "--error-log",
      "logs/error.log",
      "--access-log",
      "logs/access.log",
      "app.ts",
    ], { cwd: dir });
    assert.equal(started.code, 0, started.stderr);
    const ports = bannerPorts(started.stderr);
    assert.equal(ports.length, 1, started.stderr);
    pid = Number((await Deno.readTextFile(`${dir}/run/server.pid`)).trim());
    assert.match(started.stderr, new RegExp(`daemon running with pid ${pid}\\n`));
    assert.ok(alive(pid), "the daemon is not running");
    // Listening already when the command returned.
    const response = await fetch(`http://127.0.0.1:${ports[0].port}/daemon`);
    assert.equal((await response.json()).url, `http://127.0.0.1:${ports[0].port}/daemon`);
    // Detached: its own session, not the test's.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    assert.equal(Number(stat[3]), pid, "the daemon does not lead its own session");
    await eventually(() => {
      try {
        return /GET \/daemon HTTP\/1\.1" 200/.test(Deno.readTextFileSync(`${dir}/logs/access.log`));
      } catch {
        return false;
      }
    }, "the access log line");
    assert.match(
      await Deno.readTextFile(`${dir}/logs/error.log`),
      /http server listening at port \d+/,
    );

    assert.equal((await run("kill", ["-TERM", String(pid)])).code, 0);
    await eventually(() => !alive(pid!), "the daemon's exit", 15_000);
    assert.ok(!exists(`${dir}/run/server.pid`), "the pid file is left behind");
    assert.match(await Deno.readTextFile(`${dir}/logs/error.log`), /shutdown finished/);
  } finally {
    if (pid !== undefined && alive(pid)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-D: a daemon that cannot start makes the command fail with its error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-daemon-" });
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    const failed = await runCli([
      "-D",
      "--workers",
      "1",
      "--listen",
      `127.0.0.1:${port}`,
      "--pid",
      "server.pid",
      echoApp,
    ], { cwd: dir });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^starlight: .*(in use|AddrInUse)/m);
    assert.ok(!exists(`${dir}/server.pid`));
    // An error log the shell cannot open is reported too.
    const noLog = await runCli([
      "-D",
      "--port",
      "0",
      "--error-log",
      "missing/dir/error.log",
      echoApp,
    ], { cwd: dir });
    assert.equal(noLog.code, 1);
    assert.match(noLog.stderr, /missing\/dir\/error\.log/);
  } finally {
    blocker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
