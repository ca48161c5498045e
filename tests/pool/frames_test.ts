/**
 * The process workers' channel and sandbox, sans-IO (issue 15): frames as lines (Infinity kept,
 * the app's own output told apart), lines however the stream is chunked, and the permission set
 * as `deno` flags.
 */
import assert from "node:assert/strict";
import { encodeFrame, LineSplitter, readLine } from "../../lib/pool/frames.ts";
import { permissionFlags } from "../../lib/sandbox/flags.ts";
import { enableMigrateReq } from "../../lib/process/migrate_req.ts";

Deno.test("frames: a message survives the line, Infinity included; unmarked stdout is the app's text", () => {
  const message = { type: "start", config: { maxRequests: Infinity, timeout: 5, name: "a\nb" } };
  const marked = encodeFrame(message, true);
  assert.ok(marked.startsWith("\x1e") && marked.endsWith("\n"));
  assert.equal(marked.split("\n").length, 2, "one line, whatever the message holds");
  assert.deepEqual(readLine(marked.slice(0, -1)), { frame: message });
  assert.deepEqual(readLine(encodeFrame(message, false).slice(0, -1), false), { frame: message });
  assert.deepEqual(readLine('{"type":"listening"}'), { text: '{"type":"listening"}' });
  assert.deepEqual(readLine("\x1enot json"), { text: "\x1enot json" });
});

Deno.test("frames: lines come whole however the stream is cut, and an endless line is cut into pieces", () => {
  const lines = new LineSplitter();
  assert.deepEqual(lines.push("ab"), []);
  assert.deepEqual(lines.push("c\nde"), ["abc"]);
  assert.deepEqual(lines.push("\n\nf"), ["de", ""]);
  assert.deepEqual(lines.end(), ["f"]);
  const flood = new LineSplitter();
  const pieces = flood.push("x".repeat(200 * 1024));
  assert.ok(pieces.length >= 2, "held without bound otherwise");
  assert.ok(pieces.every((piece) => piece.length <= 64 * 1024));
});

Deno.test("permission flags: the same set a thread worker gets, spelled as deno flags", () => {
  assert.deepEqual(
    permissionFlags({
      net: ["127.0.0.1:8080", "db:5432"],
      read: [new URL("file:///srv/app").pathname],
      write: false,
      env: true,
      import: ["deno.land"],
    }),
    [
      "--allow-net=127.0.0.1:8080,db:5432",
      "--allow-read=/srv/app",
      "--allow-env",
      "--allow-import=deno.land",
    ],
  );
  assert.deepEqual(permissionFlags("none"), []);
  assert.deepEqual(permissionFlags({ read: [] }), [], "an empty grant grants nothing");
  assert.throws(() => permissionFlags("inherit"), TypeError);
  assert.throws(() => permissionFlags({ read: ["/a,b"] }), /comma/);
});

Deno.test("tcp_migrate_req: on is left on, off is turned on, an unwritable one says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-sysctl-" });
  try {
    const file = `${dir}/tcp_migrate_req`;
    await Deno.writeTextFile(file, "1\n");
    assert.deepEqual(enableMigrateReq(file), { state: "on" });
    await Deno.writeTextFile(file, "0\n");
    assert.deepEqual(enableMigrateReq(file), { state: "enabled" });
    assert.equal(await Deno.readTextFile(file), "1\n");
    const missing = enableMigrateReq(`${dir}/absent`);
    assert.equal(missing.state, "unavailable");
    assert.match((missing as { reason: string }).reason, /5\.14/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
