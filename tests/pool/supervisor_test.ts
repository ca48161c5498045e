/**
 * The supervisor's effects, driven by the policy, over stand-in workers on a fake clock: the
 * order of spawns and retirements a restart, a crash or a memory limit produces, the back-off
 * timing, hung workers, the TTIN ceiling, shutdown. No thread, socket or sleep.
 */

import assert from "node:assert/strict";
import { WorkerStartError } from "../../lib/pool/supervisor.ts";
import { settle, standInPool, started } from "../_helpers/stand_in_pool.ts";

Deno.test("restart: each new worker listens before an old one is told to retire, one at a time", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher, supervisor } = pool;
  let done = false;
  supervisor.restart().then(() => done = true);
  await settle();
  assert.equal(launcher.workers.length, 3, "a replacement for worker 1 starts");
  assert.deepEqual(launcher.get(1).retires(), [], "worker 1 accepts until it listens");
  await launcher.get(3).say({ type: "listening" });
  assert.deepEqual(launcher.get(1).retires(), [{
    type: "retire",
    mode: "recycle",
    within: 30_000,
  }]);
  assert.equal(launcher.workers.length, 3, "the next one waits until worker 1 stops accepting");
  await launcher.get(1).say({ type: "closed" });
  assert.equal(launcher.workers.length, 4);
  assert.deepEqual(launcher.get(2).retires(), []);
  await launcher.get(4).say({ type: "listening" });
  assert.equal(launcher.get(2).retires().length, 1);
  assert.equal(done, false);
  await launcher.get(2).say({ type: "closed" });
  assert.equal(done, true);
  assert.equal(launcher.workers.length, 4, "no worker more than needed");
});

Deno.test("restart: a new worker failing at start stops it; the old workers keep serving", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher, supervisor } = pool;
  const restart = supervisor.restart();
  await settle();
  await launcher.get(3).say({ type: "failed", message: "SyntaxError in the new code" });
  await restart;
  assert.deepEqual(launcher.get(1).retires(), []);
  assert.deepEqual(launcher.get(2).retires(), []);
  await pool.clock.advance(5000);
  assert.equal(launcher.workers.length, 3, "no retry of the broken code");
});

Deno.test("a worker that crashes serves on until its replacement listens (issue 14, item 1)", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher } = pool;
  launcher.get(1).requests = 50;
  await launcher.get(1).say({
    type: "crashed",
    reason: "uncaught Error: boom (at x.ts:1:1)",
    requests: 50,
  });
  assert.equal(launcher.workers.length, 3, "its replacement starts at once");
  assert.deepEqual(launcher.get(1).retires(), []);
  await launcher.get(3).say({ type: "listening" });
  assert.equal(launcher.get(1).retires().length, 1);
  // A second crash within the pace waits its turn, serving meanwhile.
  await launcher.get(2).say({ type: "crashed", reason: "uncaught Error: boom", requests: 9 });
  assert.equal(launcher.workers.length, 3);
  await pool.clock.advance(1000);
  assert.equal(launcher.workers.length, 4);
});

Deno.test("a worker that served and died is replaced at once; one that never served backs off (issue 14, item 1)", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher, clock } = pool;
  await launcher.get(1).say({
    type: "exiting",
    reason: "the app called Deno.exit(1)",
    requests: 2000,
  });
  assert.equal(launcher.workers.length, 3, "replaced in the same turn");
  await launcher.get(3).say({ type: "failed", message: "cannot listen" });
  assert.equal(launcher.workers.length, 3);
  await clock.advance(249);
  assert.equal(launcher.workers.length, 3, "no spawn within the first back-off step");
  await clock.advance(1);
  assert.equal(launcher.workers.length, 4);
  await launcher.get(4).say({ type: "failed", message: "cannot listen" });
  await clock.advance(499);
  assert.equal(launcher.workers.length, 4, "the second step is twice as long");
  await clock.advance(1);
  assert.equal(launcher.workers.length, 5);
});

Deno.test("a worker silent for --worker-timeout is abandoned and replaced", async () => {
  const pool = standInPool({ workerTimeout: 3000 });
  await started(pool);
  const { launcher, clock } = pool;
  launcher.get(1).answersPings = false;
  await clock.advance(2900);
  assert.equal(launcher.get(1).terminated, false);
  await clock.advance(1200);
  assert.equal(launcher.get(1).terminated, true);
  assert.equal(launcher.get(2).terminated, false);
  assert.equal(launcher.workers.length, 3);
});

Deno.test("a worker whose heap passes --max-worker-memory is replaced, replacement first (issue 14, item 6)", async () => {
  const pool = standInPool({ maxWorkerMemory: 64 * 1024 * 1024 });
  await started(pool);
  const { launcher, clock } = pool;
  launcher.get(2).heap = 65 * 1024 * 1024;
  await clock.advance(1000);
  assert.equal(launcher.workers.length, 3, "a replacement starts");
  assert.deepEqual(launcher.get(2).retires(), [], "the big worker serves until it listens");
  await launcher.get(3).say({ type: "listening" });
  assert.equal(launcher.get(2).retires().length, 1);
  assert.deepEqual(launcher.get(1).retires(), []);
});

Deno.test("TTIN stops at the ceiling; TTOU at one worker", async () => {
  const pool = standInPool({ workers: 1, maxWorkers: 3 });
  await started(pool, 1);
  for (let i = 0; i < 5; i++) pool.supervisor.grow();
  await settle();
  assert.equal(pool.supervisor.desired, 3);
  assert.equal(pool.launcher.workers.length, 3);
  for (let i = 0; i < 5; i++) pool.supervisor.shrink();
  await settle();
  assert.equal(pool.supervisor.desired, 1);
});

Deno.test("shutdown drains every worker and finishes once all retired; a second one terminates", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher, supervisor } = pool;
  let finished = false;
  supervisor.finished.then(() => finished = true);
  supervisor.shutdown();
  await settle();
  assert.deepEqual(launcher.get(1).retires(), [{ type: "retire", mode: "drain", within: 30_000 }]);
  await launcher.get(1).say({ type: "retired", cut: 0 });
  assert.equal(finished, false);
  supervisor.shutdown();
  await settle();
  assert.equal(launcher.get(2).terminated, true);
  assert.equal(finished, true);
  await pool.clock.advance(60_000);
  assert.equal(launcher.workers.length, 2, "nothing is spawned once stopping");
});

Deno.test("messages out of order or of the wrong shape change nothing", async () => {
  const pool = standInPool();
  await started(pool);
  const { launcher, supervisor } = pool;
  await launcher.get(1).say({ type: "retired", cut: 0 });
  await launcher.get(1).say({ type: "closed" });
  await launcher.get(1).say({ type: "listening" });
  await launcher.get(1).say({ type: "retire", reason: "whatever" });
  await launcher.get(1).say({ type: "pong", seq: 1, requests: 1, heap: -5 });
  assert.equal(supervisor.size, 2);
  assert.equal(launcher.workers.length, 2);
  assert.equal(launcher.get(1).terminated, false);
});

Deno.test("the first worker failing at start rejects start() with its reason", async () => {
  const pool = standInPool();
  const starting = pool.supervisor.start();
  await settle();
  await pool.launcher.get(1).say({ type: "failed", message: "app.ts: no default export" });
  await assert.rejects(starting, (error) => {
    assert.ok(error instanceof WorkerStartError);
    assert.equal(error.message, "app.ts: no default export");
    return true;
  });
  assert.equal(pool.launcher.workers.length, 1);
});
