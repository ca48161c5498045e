/**
 * The access log line (issue 13, item 7): printable ASCII whatever the client sends, built field
 * by field, so no client can split or forge a line, nor hide bytes from a log parser.
 */

import assert from "node:assert/strict";
import { escapeLogField, formatAccessLine } from "../../lib/observe/access_log.ts";
import { startServer } from "../_helpers/server.ts";
import { echoApp, eventually } from "../_helpers/listen.ts";

const PRINTABLE = /^[\x20-\x7e]*$/;

const entry = {
  remote: "127.0.0.1",
  requestLine: "GET / HTTP/1.1",
  status: 200,
  bytes: 5,
  referer: "-",
  userAgent: "curl/8.0",
  time: Date.UTC(2026, 10, 21, 10),
};

Deno.test("control bytes, DEL and bytes 0x80-0xFF are written \\xhh; quotes and backslashes escaped", () => {
  assert.equal(escapeLogField("plain text/1.0 (x; y)"), "plain text/1.0 (x; y)");
  assert.equal(escapeLogField('say "hi" \\ bye'), 'say \\"hi\\" \\\\ bye');
  assert.equal(escapeLogField("a\r\nb\x00\x1b[31m\x7f"), "a\\x0d\\x0ab\\x00\\x1b[31m\\x7f");
  // Latin-1 header bytes: U+0085 (NEL) is a line break to many log parsers.
  assert.equal(escapeLogField("x\x85y\xa0\xff"), "x\\x85y\\xa0\\xff");
  // Characters no byte gives (a worker's own string): their UTF-8, byte by byte.
  assert.equal(escapeLogField("\u2028\u{1f600}"), "\\xe2\\x80\\xa8\\xf0\\x9f\\x98\\x80");
  for (let c = 0; c < 0x100; c++) {
    assert.match(escapeLogField(String.fromCharCode(c)), PRINTABLE, `byte ${c}`);
  }
});

Deno.test("the line is built from the fields: every one escaped, numbers checked", () => {
  assert.equal(
    formatAccessLine(entry),
    '127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.0"',
  );
  const hostile = formatAccessLine({
    remote: "1.2.3.4\nFORGED",
    requestLine: 'GET /" 200 1 "x',
    status: "200\nX" as unknown as number,
    bytes: -1,
    referer: "\x85",
    userAgent: "ua\u2029",
    time: NaN,
  });
  assert.match(hostile, PRINTABLE);
  assert.equal(
    hostile,
    '1.2.3.4\\x0aFORGED - - [-] "GET /\\" 200 1 \\"x" - - "\\x85" "ua\\xe2\\x80\\xa9"',
  );
  assert.equal(formatAccessLine({ ...entry, bytes: 0 }).split(" ")[9], "-");
});

Deno.test("a User-Agent with bytes 0x80-0xFF and NEL gives one printable line in --access-log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-access-" });
  const log = `${dir}/access.log`;
  const server = await startServer(["--workers", "1", "--port", "0", "--access-log", log, echoApp]);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const agent = [..."Mozilla\x85FORGED \xc3\xa9\xff"].map((c) => c.charCodeAt(0));
    const request = [
      ..."GET /ua HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUser-Agent: ",
    ].map((c) => c.charCodeAt(0)).concat(agent, [13, 10, 13, 10]);
    await conn.write(new Uint8Array(request));
    while ((await conn.read(new Uint8Array(4096))) !== null) {
      // Until the server closes.
    }
    conn.close();
    const text = () => {
      try {
        return Deno.readTextFileSync(log);
      } catch {
        return "";
      }
    };
    await eventually(() => text().includes("\n"), "the access line");
    const lines = text().split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, text());
    assert.match(lines[0], PRINTABLE);
    assert.match(
      lines[0],
      /"GET \/ua HTTP\/1\.1" 200 \d+ "-" "Mozilla\\x85FORGED \\xc3\\xa9\\xff"$/,
    );
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
