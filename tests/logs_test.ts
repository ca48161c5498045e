/**
 * `--error-log` (everything the server logs, appended), `--access-log` (Apache combined format,
 * one line per response), SIGUSR2 reopening both after a rotation, and the access log on stderr
 * with `-E development`.
 */

import assert from "node:assert/strict";
import { startServer } from "./_helpers/server.ts";
import { bannerPorts, curl, echoApp, eventually, have, runCli } from "./_helpers/listen.ts";

const COMBINED =
  /^(\S+) - - \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\] "([^"\\]|\\.)*" (\d{3}) (\d+|-) "([^"\\]|\\.)*" "([^"\\]|\\.)*"$/;

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function lines(path: string): string[] {
  return read(path).split("\n").filter((line) => line !== "");
}

Deno.test({
  name: "--error-log and --access-log: contents, combined format, SIGUSR2 reopens after rotation",
  ignore: !have("curl") && (console.log("skipped: curl is not installed"), true),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starlight-logs-" });
    const errorLog = `${dir}/error.log`;
    const accessLog = `${dir}/access.log`;
    await Deno.writeTextFile(errorLog, "an older line\n");
    const server = await startServer(
      [
        "--workers",
        "2",
        "--port",
        "0",
        "--error-log",
        errorLog,
        "--access-log",
        accessLog,
        echoApp,
      ],
      { readyWhen: /^/ },
    );
    try {
      await eventually(
        () => /listening at port \d+/.test(read(errorLog)),
        "the banner in the error log",
      );
      const port = bannerPorts(read(errorLog))[0].port;
      // Appended, and nothing on stderr.
      assert.match(read(errorLog), /^an older line\n/);
      assert.match(read(errorLog), /\[INF\] starlight·server: worker \d started/);
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await curl(["-e", "http://ref.example/", `${url}/path?q=1`])).code, 0);
      assert.equal((await curl(["-A", 'agent "quoted"', `${url}/second`])).code, 0);
      assert.equal((await curl(["-I", `${url}/head`])).code, 0);
      await eventually(() => lines(accessLog).length >= 3, "three access lines");
      const [first, second, third] = lines(accessLog);
      for (const line of [first, second, third]) assert.match(line, COMBINED, line);
      assert.match(
        first,
        /^127\.0\.0\.1 - - \[.*\] "GET \/path\?q=1 HTTP\/1\.1" 200 \d+ "http:\/\/ref\.example\/" "curl\/[^"]+"$/,
      );
      assert.match(second, /"GET \/second HTTP\/1\.1" 200 \d+ "-" "agent \\"quoted\\""$/);
      assert.match(third, /"HEAD \/head HTTP\/1\.1" 200 - "-" "curl\//);
      const stamp = COMBINED.exec(first)!;
      const when = Date.UTC(
        Number(stamp[4]),
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
          .indexOf(stamp[3]),
        Number(stamp[2]),
        Number(stamp[5]),
        Number(stamp[6]),
        Number(stamp[7]),
      );
      assert.ok(Math.abs(Date.now() - when) < 60_000, `time ${stamp[0]}`);

      // Rotation: move both files away, then USR2.
      await Deno.rename(errorLog, `${errorLog}.1`);
      await Deno.rename(accessLog, `${accessLog}.1`);
      server.kill("SIGUSR2");
      await eventually(() => /log files reopened/.test(read(errorLog)), "the reopened error log");
      assert.equal((await curl([`${url}/after-rotation`])).code, 0);
      await eventually(() => lines(accessLog).length === 1, "a line in the new access log");
      assert.match(lines(accessLog)[0], /"GET \/after-rotation HTTP\/1\.1" 200 /);
      assert.equal(lines(`${accessLog}.1`).length, 3, "a line went to the rotated file");
      assert.equal((await server.stop()).code, 0);
      assert.match(read(errorLog), /shutdown finished/);
      assert.doesNotMatch(read(`${errorLog}.1`), /shutdown finished/);
      assert.doesNotMatch(server.stderr(), /listening|INF/);
    } finally {
      server.kill("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("-E development: access lines on stderr", async () => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "development", echoApp]);
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/dev`, {
      headers: { "user-agent": "dev-agent" },
    });
    await response.body?.cancel();
    await server.waitFor(/"GET \/dev HTTP\/1\.1" 200 \d+ "-" "dev-agent"/);
    const line = server.stderr().split("\n").find((l) => l.includes("GET /dev"))!;
    assert.match(line, COMBINED);
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("an error log that cannot be opened is a one-line start-up error", async () => {
  const result = await runCli([
    "--port",
    "0",
    "--error-log",
    "/nonexistent-dir/error.log",
    echoApp,
  ]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^starlight: --error-log \/nonexistent-dir\/error\.log: .*No such file/m,
  );
});
