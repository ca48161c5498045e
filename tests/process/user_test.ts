/**
 * `--user`/`--group`: privileges dropped once everything is open; workers started afterwards (a
 * HUP restart) still serve a port below 1024 and the UNIX socket; the pid file and socket in a
 * directory the new user may not write are still removed at exit (defect 10); unknown names are
 * start-up errors.
 */

import assert from "node:assert/strict";
import { rawExchange, startServer } from "../_helpers/server.ts";
import {
  echoApp,
  eventually,
  exists,
  have,
  processUid,
  runCli,
  selfSigned,
  unixRequest,
} from "../_helpers/listen.ts";

const isRoot = Deno.uid() === 0;
const nobody = (() => {
  try {
    return Deno.readTextFileSync("/etc/passwd").split("\n").find((line) =>
      line.startsWith("nobody:")
    );
  } catch {
    return undefined;
  }
})();
const reason = !isRoot
  ? "not running as root"
  : nobody === undefined
  ? "no user nobody"
  : undefined;
if (reason !== undefined) console.log(`skipped --user nobody: ${reason}`);

/** A port below 1024 that is free on 127.0.0.1 right now. */
function privilegedPort(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    // 700–979 holds none of the ports fetch refuses (989, 990, 993, 995, 636, 601, …).
    const port = 700 + Math.floor(Math.random() * 280);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken; try another.
    }
  }
  throw new Error("no free port below 1024");
}

Deno.test({
  name:
    "--user nobody: drop after listening; restarted workers serve port < 1024 and the socket; files removed",
  ignore: reason !== undefined,
  async fn() {
    // Root's directory, not writable by nobody (like /run).
    const dir = await Deno.makeTempDir({ prefix: "starlight-user-" });
    await Deno.chmod(dir, 0o755);
    const pidFile = `${dir}/server.pid`;
    const socket = `${dir}/server.sock`;
    const port = privilegedPort();
    const server = await startServer([
      "--workers",
      "2",
      "--listen",
      `127.0.0.1:${port}`,
      "--socket",
      socket,
      "--pid",
      pidFile,
      "--user",
      "nobody",
      "--umask",
      "002",
      echoApp,
    ]);
    try {
      await server.waitFor(/listening at port/);
      const pid = server.process.pid;
      const nobodyUid = Number(nobody!.split(":")[2]);
      await eventually(() => processUid(pid).every((id) => id === nobodyUid), "the drop to nobody");
      // Every thread switched, not just the main one.
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        const status = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/status`);
        assert.match(
          status,
          new RegExp(`^Uid:\\s+${nobodyUid}\\s+${nobodyUid}\\s+${nobodyUid}\\s+${nobodyUid}$`, "m"),
        );
        assert.doesNotMatch(status, /^Groups:.*\b0\b/m, "still in root's group");
      }
      // --umask 002 gives the socket (created before the drop) mode 775: other users may not connect.
      assert.equal(Deno.lstatSync(socket).mode! & 0o777, 0o775);
      assert.equal(await Deno.readTextFile(pidFile), `${pid}\n`);
      assert.match(
        await rawExchange(port, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
        /^HTTP\/1\.1 200/,
      );
      server.kill("SIGHUP");
      await server.waitFor(/restart finished/, 20_000);
      assert.doesNotMatch(server.stderr(), /could not start/);
      // A new connection: only the workers started after the drop accept now.
      const after = await rawExchange(
        port,
        "GET /after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
      );
      assert.match(after, /^HTTP\/1\.1 200/);
      assert.match(after, /"worker":"starlight-worker-[3-9]"/);
      const viaSocket = await unixRequest(
        socket,
        "GET /s HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
      );
      assert.match(viaSocket, /^HTTP\/1\.1 200/);
      assert.equal((await server.stop()).code, 0);
      // Nobody may not remove them; the root helper does.
      await eventually(() => !exists(pidFile) && !exists(socket), "pid file and socket removal");
    } finally {
      server.kill("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "--user nobody with --ssl on a port < 1024: workers started after the drop serve HTTPS",
  ignore: reason !== undefined || !have("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starlight-user-" });
    await Deno.chmod(dir, 0o755);
    const cert = (await selfSigned(dir))!;
    await Deno.chmod(cert.key, 0o600);
    const port = privilegedPort();
    const server = await startServer([
      "--workers",
      "2",
      "--listen",
      `127.0.0.1:${port}`,
      "--user",
      "nobody",
      "--ssl",
      "--ssl-cert-file",
      cert.cert,
      "--ssl-key-file",
      cert.key,
      echoApp,
    ]);
    const client = Deno.createHttpClient({ caCerts: [cert.certPem] });
    try {
      server.kill("SIGHUP");
      await server.waitFor(/restart finished/, 20_000);
      assert.doesNotMatch(server.stderr(), /could not start/);
      const body = await (await fetch(`https://localhost:${port}/tls`, { client })).json();
      assert.equal(body.url, `https://localhost:${port}/tls`);
      assert.match(body.worker, /starlight-worker-[3-9]/);
      assert.equal((await server.stop()).code, 0);
    } finally {
      client.close();
      server.kill("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("unknown --user or --group: a start-up error before anything is served or written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-user-" });
  try {
    const user = await runCli([
      "--port",
      "0",
      "--pid",
      `${dir}/a.pid`,
      "--user",
      "no-such-user-x1",
      echoApp,
    ]);
    assert.equal(user.code, 1);
    assert.match(user.stderr, /^starlight: --user no-such-user-x1: no such user$/m);
    assert.doesNotMatch(user.stderr, /listening/);
    assert.ok(!exists(`${dir}/a.pid`));
    const group = await runCli(["--port", "0", "--group", "nogroup-x1,root", echoApp]);
    assert.equal(group.code, 1);
    assert.match(group.stderr, /^starlight: --group nogroup-x1: no such group$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const workers of ["2", "0"]) {
  Deno.test({
    name:
      `--user nobody, --workers ${workers}: app code never runs as root, not even while it loads (issue 13, item 9)`,
    ignore: reason !== undefined,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "starlight-user-" });
      const secret = `${dir}/root-only.txt`;
      await Deno.writeTextFile(secret, "root's secret");
      await Deno.chmod(secret, 0o600);
      const server = await startServer([
        "--workers",
        workers,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--user",
        "nobody",
        "--allow-run=id",
        "--allow-env=STARLIGHT_TEST_SECRET",
        `--allow-read=${dir}`,
        new URL("../fixtures/process/load_uid.ts", import.meta.url).pathname,
      ], { env: { STARLIGHT_TEST_SECRET: secret } });
      try {
        const seen = await (await fetch(`http://127.0.0.1:${server.port}/`)).json();
        const nobodyUid = nobody!.split(":")[2];
        assert.deepEqual(seen, { uidAtLoad: nobodyUid, secretAtLoad: "unreadable" });
        assert.equal((await server.stop()).code, 0);
      } finally {
        server.kill("SIGKILL");
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
