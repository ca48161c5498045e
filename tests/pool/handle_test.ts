/**
 * A worker handle's state machine (lib/pool/handle.ts): the legal path forward, and every
 * illegal transition refused.
 */

import assert from "node:assert/strict";
import { IllegalTransition, WorkerHandle } from "../../lib/pool/handle.ts";

function at(state: "starting" | "serving" | "limited" | "retiring" | "gone"): WorkerHandle {
  const handle = new WorkerHandle(1, 0);
  if (state === "starting") return handle;
  if (state === "gone") {
    handle.gone();
    return handle;
  }
  handle.listening(10);
  if (state === "limited") handle.limit("request-limit");
  if (state === "retiring") handle.retire("recycle", "restart", 5000);
  return handle;
}

Deno.test("a handle goes starting → serving → limited → retiring → gone, recording why and when", () => {
  const handle = new WorkerHandle(7, 100);
  assert.equal(handle.state, "starting");
  assert.equal(handle.lastSeen, 100);
  handle.listening(150);
  assert.equal(handle.servingAt, 150);
  assert.ok(handle.accepting);
  handle.limit("request-limit");
  assert.equal(handle.state, "limited");
  assert.ok(handle.accepting);
  handle.retire("recycle", "request-limit", 9000);
  assert.equal(handle.state, "retiring");
  assert.equal(handle.retireDeadline, 9000);
  assert.equal(handle.accepting, false);
  handle.stoppedAccepting();
  assert.ok(handle.closed);
  handle.gone();
  assert.equal(handle.state, "gone");
});

Deno.test("a handle may skip states forward: a starting worker can be gone, a serving one retire", () => {
  at("starting").gone();
  at("serving").retire("drain", "shutdown", 1);
  at("serving").gone();
  at("limited").gone();
});

Deno.test("illegal transitions throw IllegalTransition and leave the state unchanged", () => {
  const cases: [Parameters<typeof at>[0], (h: WorkerHandle) => void][] = [
    ["serving", (h) => h.listening(20)],
    ["limited", (h) => h.listening(20)],
    ["gone", (h) => h.listening(20)],
    ["starting", (h) => h.limit("memory")],
    ["limited", (h) => h.limit("crash")],
    ["retiring", (h) => h.limit("crash")],
    ["starting", (h) => h.retire("recycle", "restart", 1)],
    ["gone", (h) => h.retire("drain", "shutdown", 1)],
    ["retiring", (h) => h.retire("recycle", "restart", 1)],
    ["starting", (h) => h.stoppedAccepting()],
    ["serving", (h) => h.stoppedAccepting()],
    ["gone", (h) => h.gone()],
    ["gone", (h) => h.crashed("boom")],
    ["limited", (h) => h.replace()],
    ["starting", (h) => h.replace()],
  ];
  for (const [state, move] of cases) {
    const handle = at(state);
    assert.throws(() => move(handle), IllegalTransition, `${state}: ${move}`);
    assert.equal(handle.state, state);
  }
});

Deno.test("may() tells which states can be entered", () => {
  assert.ok(at("starting").may("serving"));
  assert.ok(!at("serving").may("serving"));
  assert.ok(!at("retiring").may("limited"));
  assert.ok(at("retiring").may("gone"));
  assert.ok(!at("gone").may("gone"));
});

Deno.test("a shutdown's drain overtakes a recycle, never the other way round", () => {
  const handle = at("retiring");
  handle.retire("drain", "shutdown", 3000);
  assert.equal(handle.mode, "drain");
  assert.equal(handle.retireDeadline, 3000);
  assert.throws(() => handle.retire("drain", "shutdown", 1), IllegalTransition);
});

Deno.test("the first crash is kept; reports never lower the request count", () => {
  const handle = at("serving");
  handle.crashed("uncaught Error: first");
  handle.crashed("uncaught Error: second");
  assert.equal(handle.crash, "uncaught Error: first");
  handle.report(10, 1000);
  handle.report(4, 2000);
  assert.equal(handle.requests, 10);
  assert.equal(handle.heap, 2000);
});

Deno.test("a restart's mark is on serving workers only, and limit() clears it", () => {
  const handle = at("serving");
  handle.replace();
  assert.ok(handle.outgoing);
  handle.keep();
  assert.ok(!handle.outgoing);
  handle.replace();
  handle.limit("request-limit");
  assert.ok(!handle.outgoing);
});
