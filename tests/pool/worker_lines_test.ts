/**
 * What workers say, made safe (lib/pool/worker_lines.ts, lib/pool/protocol.ts): messages of the
 * wrong shape dropped, lines escaped so none can be forged, capped and rate-limited (issue 13,
 * item 12); crash loops summarised, not repeated (issue 14, item 8).
 */

import assert from "node:assert/strict";
import {
  ByteRate,
  capText,
  escapeLine,
  MAX_ACCESS_LINE,
  WorkerLineGate,
} from "../../lib/pool/worker_lines.ts";
import { parseFromWorker } from "../../lib/pool/protocol.ts";
import { describeError, escapeLogText } from "../../lib/log.ts";
import { LogDigest } from "../../lib/pool/log_digest.ts";
import { crashLine } from "../../lib/pool/worker_runtime.ts";

Deno.test("escapeLine: newlines, C0/C1 controls, DEL and U+2028/9 cannot end or forge a line", () => {
  assert.equal(escapeLine("GET / x\nFORGED 200", 100), "GET / x\\x0aFORGED 200");
  assert.equal(
    escapeLine("a\r\x00\x1b\x7f\u0085\u2028\u2029b", 100),
    "a\\x0d\\x00\\x1b\\x7f\\x85\\u2028\\u2029b",
  );
  assert.equal(escapeLine("plain line, ünïcode kept", 100), "plain line, ünïcode kept");
  assert.doesNotMatch(escapeLine("x\n".repeat(1000), 100_000), /[\n\r\u0085\u2028\u2029]/);
});

Deno.test("a worker's log line is escaped once, by the server log: its stack lines are indented continuation lines", () => {
  const gate = new WorkerLineGate();
  const line = gate.log("the app failed: boom\n    at app.ts:5:3\r\x1b[31m", 0)!;
  assert.equal(
    escapeLogText(line, "\n    "),
    "the app failed: boom\n        at app.ts:5:3\\x0d\\x1b[31m",
  );
  assert.equal(capText("abcdef", 3), "abc... (3+ more characters cut)");
  assert.equal(capText("abc", 3), "abc");
});

Deno.test("escapeLine: a long line is cut and says so", () => {
  const line = escapeLine("y".repeat(10_000), 4096);
  assert.ok(line.startsWith("y".repeat(4096) + "..."));
  assert.match(line, /more characters cut\)$/);
  assert.ok(line.length < 4200);
});

Deno.test("ByteRate: a burst, then the rate per second; refusals are counted once read", () => {
  const rate = new ByteRate(1000, 2000);
  assert.ok(rate.take(1500, 0));
  assert.ok(!rate.take(1000, 0));
  assert.ok(!rate.take(1000, 100));
  assert.ok(rate.take(1000, 500));
  assert.equal(rate.takeDropped(), 2);
  assert.equal(rate.takeDropped(), 0);
});

Deno.test("a worker flooding the access log is cut off; a forged line arrives escaped (issue 13, item 12)", () => {
  const gate = new WorkerLineGate();
  assert.equal(
    gate.access('1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5\nFORGED', 0),
    '1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5\\x0aFORGED',
  );
  const huge = "z".repeat(MAX_ACCESS_LINE);
  let written = 0;
  for (let i = 0; i < 10_000; i++) if (gate.access(huge, 1) !== undefined) written++;
  assert.ok(written < 2100, `${written} lines of 32 KiB in one millisecond`);
  assert.ok(gate.takeDropped() > 7000);
  let logs = 0;
  for (let i = 0; i < 10_000; i++) if (gate.log("x".repeat(100), 1) !== undefined) logs++;
  assert.ok(logs <= 2700, `${logs} log lines at once`);
});

Deno.test("messages of the wrong shape from a worker are dropped, never half-trusted", () => {
  assert.deepEqual(parseFromWorker({ type: "closed", extra: 1 }), { type: "closed" });
  const pong = { type: "pong", seq: 1, requests: 2, heap: 3 };
  const withoutCounters = { ...pong, connections: 0, responses: [0, 0, 0, 0, 0] };
  assert.deepEqual(parseFromWorker(pong), withoutCounters);
  assert.deepEqual(
    parseFromWorker({ ...pong, connections: -4, responses: [0, 1, 2, "3", 4] }),
    withoutCounters,
    "counters of the wrong shape count as nothing",
  );
  for (
    const bad of [
      null,
      "listening",
      { type: "pong", seq: 1, requests: -1, heap: 0 },
      { type: "pong", seq: 1, requests: 1, heap: NaN },
      { type: "retire", reason: "because" },
      { type: "log", level: "fatal", message: "x" },
      { type: "log", level: "info", message: 42 },
      { type: "access", line: { toString: () => "x" } },
      { type: "crashed", reason: "x" },
      { type: "start", config: {} },
      { type: "retired", cut: "all" },
    ]
  ) {
    assert.equal(parseFromWorker(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("a crash is one line: the error's message and its first frame (issue 14, item 8)", () => {
  const error = new Error("boom");
  const line = crashLine("uncaught", error);
  assert.match(line, /^uncaught Error: boom \(at .*worker_lines_test\.ts:\d+:\d+\)$/);
  assert.doesNotMatch(line, /\n/);
  assert.equal(crashLine("unhandled rejection:", "text"), "unhandled rejection: text");
  assert.equal(describeError(new TypeError("t")), "TypeError: t");
});

Deno.test("a crash loop is summarised: a few lines per window, then one line with the count (issue 14, item 8)", () => {
  const digest = new LogDigest(5, 10_000);
  let logged = 0;
  for (let t = 0; t < 10_000; t += 10) if (digest.admit(`crash at ${t}`, t)) logged++;
  assert.equal(logged, 5);
  assert.equal(digest.due, 10_000);
  assert.equal(digest.summary(9_999), undefined);
  assert.deepEqual(digest.summary(10_000), { held: 995, last: "crash at 9990", window: 10_000 });
  // The loop goes on: no single line any more, one summary per window.
  for (let t = 10_000; t < 20_000; t += 10) assert.ok(!digest.admit("crash", t));
  assert.equal(digest.summary(20_000)?.held, 1000);
  // Once quiet for a window, crashes are logged line by line again.
  assert.equal(digest.summary(30_000), undefined);
  assert.ok(digest.admit("crash after a quiet spell", 30_001));
});
