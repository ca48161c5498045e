/**
 * `--error-log` (everything the server logs, appended), `--access-log` (Apache combined format,
 * one line per response), SIGUSR2 reopening both after a rotation, and the access log on stderr
 * with `-E development`.
 */

import assert from "node:assert/strict";
import { appFailureMessage } from "../lib/engine/app_call.ts";
import { startServer } from "./_helpers/server.ts";
import {
  bannerPorts,
  curl,
  echoApp,
  eventually,
  fixtures,
  have,
  runCli,
} from "./_helpers/listen.ts";
import { fetchWithin, freePort } from "./_helpers/examples.ts";
import {
  announceBanner,
  announcedLines,
  closeLogs,
  escapeLogText,
  flushLogs,
  formatLogRecord,
  log,
  type LogRecord,
  setupLogging,
  writeAccess,
} from "../lib/log.ts";

const slowApp = `${fixtures}../app/slow_start.ts`;

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
      assert.match(
        read(errorLog),
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[INFO\] worker \d started$/m,
      );
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

// ---------------------------------------------------------------------------------------------
// One format for everything the server prints (issue 16 item 8).

const TEXT_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(INFO|WARN|ERROR)\] \S/;

Deno.test("a text line is time, level, message; ASCII only, and a newline cannot forge a line", () => {
  const line = formatLogRecord({
    time: Date.UTC(2026, 11, 4, 18, 0, 0, 7),
    level: "warning",
    message: "caf\u00e9 \u{1f600}\x1b[31m\nforged 2026-12-04T00:00:00.000Z [ERROR] x\u0085y\\",
    fields: {},
  }, "text");
  assert.equal(
    line,
    "2026-12-04T18:00:00.007Z [WARN] caf\\u00e9 \\u{1f600}\\x1b[31m\n" +
      "    forged 2026-12-04T00:00:00.000Z [ERROR] x\\u0085y\\\\\n",
  );
  assert.ok([...line].every((c) => c.charCodeAt(0) < 0x7f), "only ASCII");
  for (const continued of line.trimEnd().split("\n").slice(1)) assert.match(continued, /^ {4}/);
  assert.equal(escapeLogText("plain"), "plain");
});

Deno.test("a JSON line is one ASCII object with the message's fields, for log shippers", () => {
  const line = formatLogRecord({
    time: 0,
    level: "error",
    message: "worker 3 crashed: \u00e9\n\u{1f600}",
    fields: { id: 3, reason: "\u00e9", message: "clash", error: new Error("boom"), n: Infinity },
  }, "json");
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), "one line");
  assert.ok([...line].every((c) => c.charCodeAt(0) < 0x7f), "only ASCII");
  const object = JSON.parse(line);
  assert.equal(object.time, "1970-01-01T00:00:00.000Z");
  assert.equal(object.level, "error");
  assert.equal(object.message, "worker 3 crashed: \u00e9\n\u{1f600}");
  assert.equal(object.id, 3);
  assert.equal(object.reason, "\u00e9");
  assert.equal(object.field_message, "clash", "a field named like a reserved key is renamed");
  assert.match(object.error, /^Error: boom\n {4}at /);
  assert.equal(object.n, "Infinity");
});

Deno.test("-q keeps warnings and errors only; access lines wait for the banner", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-logfmt-" });
  try {
    const errorLog = `${dir}/error.log`;
    const accessLog = `${dir}/access.log`;
    setupLogging({ errorLog, accessLog, quiet: true });
    log.info("routine {id}", { id: 1 });
    log.warning("look {id}", { id: 2 });
    log.error("failed {id}", { id: 3 });
    writeAccess("early request");
    flushLogs();
    assert.deepEqual(lines(accessLog), [], "no access line before the banner");
    announceBanner([{ message: "Starting banner" }]);
    writeAccess("later request");
    flushLogs();
    assert.deepEqual(lines(accessLog), ["early request", "later request"]);
    const written = lines(errorLog);
    assert.equal(written.length, 2, written.join("\n"));
    assert.match(written[0], /\[WARN\] look 2$/);
    assert.match(written[1], /\[ERROR\] failed 3$/);

    setupLogging({ errorLog, accessLog, format: "json" });
    announceBanner([{ message: "Starting again", fields: { url: "http://0.0.0.0:1/" } }]);
    log.info("worker {id} started", { id: 7 });
    const json = lines(errorLog).slice(2).map((line) => JSON.parse(line));
    assert.deepEqual(json.map(({ level, message }) => [level, message]), [
      ["info", "Starting again"],
      ["info", "worker 7 started"],
    ]);
    assert.equal(json[0].url, "http://0.0.0.0:1/");
    assert.equal(json[1].id, 7);
    assert.match(announcedLines().at(-1)!, /^\{"time":.*"Starting again"/);

    const records: LogRecord[] = [];
    setupLogging({ sink: (record) => records.push(record) });
    log.error("to the sink {x}", { x: "y" });
    assert.equal(records.length, 1);
    assert.equal(records[0].message, "to the sink y");
    assert.deepEqual(records[0].fields, { x: "y" });
  } finally {
    closeLogs();
    setupLogging({});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the engine's app-failure message names the method and path, not the query", () => {
  assert.equal(
    appFailureMessage("POST", "/orders/7?token=secret"),
    "the app failed on POST /orders/7",
  );
  assert.equal(appFailureMessage("GET", "*"), "the app failed on GET *");
});

Deno.test("the server's own lines: ASCII text, one format; the banner shows the URL", async () => {
  const server = await startServer([
    "--workers",
    "1",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    echoApp,
  ]);
  try {
    await fetchWithin(`http://127.0.0.1:${server.port}/x`).then((r) => r.body?.cancel());
    assert.equal((await server.stop()).code, 0);
    const printed = server.stderr().trimEnd().split("\n").filter((l) => !l.startsWith("    "));
    for (const line of printed) assert.match(line, TEXT_LINE, line);
    assert.ok([...server.stderr()].every((c) => c.charCodeAt(0) < 0x7f), "only ASCII");
    assert.match(
      server.stderr(),
      new RegExp(
        `\\[INFO\\] Starting Starlight/\\S+ http server listening at port ${server.port} on ` +
          `127\\.0\\.0\\.1 \\(http://127\\.0\\.0\\.1:${server.port}/\\)\\n`,
      ),
    );
    assert.match(server.stderr(), /\[INFO\] shutdown finished\n$/);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("--log-format json: every line the server prints is a JSON object", async () => {
  const server = await startServer(
    ["--workers", "2", "--port", "0", "--log-format", "json", echoApp],
    { readyWhen: /"url":"http:\/\/0\.0\.0\.0:\d+\/"/ },
  );
  try {
    const port = Number(server.stderr().match(/"url":"http:\/\/0\.0\.0\.0:(\d+)\/"/)![1]);
    await fetchWithin(`http://127.0.0.1:${port}/`).then((r) => r.body?.cancel());
    assert.equal((await server.stop()).code, 0);
    const objects = server.stderr().trimEnd().split("\n").map((line) => JSON.parse(line));
    for (const object of objects) {
      assert.match(object.time, /^\d{4}-\d\d-\d\dT.*Z$/);
      assert.ok(["info", "warning", "error"].includes(object.level), object.level);
      assert.equal(typeof object.message, "string");
    }
    const messages = objects.map((object) => object.message);
    assert.ok(messages.includes("shutdown finished"), messages.join("\n"));
    assert.ok(messages.some((m) => /^app permissions: /.test(m)), messages.join("\n"));
    const started = objects.filter((object) => /^worker \d started$/.test(object.message));
    assert.deepEqual(started.map((object) => object.id).sort(), [1, 2]);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("-q: no banner and no routine lines, but warnings and errors still print", async () => {
  const server = await startServer(
    ["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-q", `${fixtures}../app/throws.ts`],
    { readyWhen: /^/ },
  );
  try {
    // No banner to read the port from: ask the process's own listening socket.
    const port = await listeningPort(server.process.pid);
    const response = await fetchWithin(`http://127.0.0.1:${port}/boom?secret=1`);
    assert.equal(response.status, 500);
    await response.body?.cancel();
    await server.waitFor(/fixture failure/);
    assert.equal((await server.stop()).code, 0);
    const text = server.stderr();
    assert.doesNotMatch(text, /Starting|app permissions|worker 1 started|retir|shutdown/);
    assert.match(text, /\[WARN\] worker 1: the app failed.*fixture failure/);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("the banner comes before any access line, though requests are served sooner", async () => {
  // Each worker takes 0.5 s to load: the first one serves while the others start, and the
  // banner waits for all of them.
  const port = freePort();
  const server = await startServer(
    ["--workers", "3", "--host", "127.0.0.1", "--port", String(port), "-E", "development", slowApp],
    { readyWhen: /^/ },
  );
  let served = 0;
  try {
    while (!/listening at port/.test(server.stderr())) {
      try {
        const response = await fetchWithin(`http://127.0.0.1:${port}/n${served}`, {}, 2000);
        await response.text();
        if (response.status === 200) served++;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (server.stderr().includes("exited")) break;
    }
    await server.waitFor(/"GET \/n0 HTTP\/1\.1" 200/);
    assert.ok(served > 0, "no request was served before the banner");
    const text = server.stderr();
    assert.ok(
      text.indexOf("listening at port") < text.indexOf('"GET /n0 '),
      `an access line before the banner:\n${text}`,
    );
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
  }
});

/** The TCP port a process (or its only child) listens on, from /proc/net/tcp. */
async function listeningPort(pid: number): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const inodes = new Set<string>();
    for (
      const fd of (() => {
        try {
          return [...Deno.readDirSync(`/proc/${pid}/fd`)];
        } catch {
          return [];
        }
      })()
    ) {
      try {
        const link = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // Closed meanwhile.
      }
    }
    for (const row of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9])) return parseInt(cols[1].split(":")[1], 16);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process ${pid} listens on no TCP port`);
}
