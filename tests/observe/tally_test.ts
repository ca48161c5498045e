/** The pool's running totals behind `--metrics-listen` (`lib/pool/tally.ts`). */

import assert from "node:assert/strict";
import { PoolTally, type TalliedWorker } from "../../lib/observe/tally.ts";

function worker(id: number, requests: number, twoXx: number, spawnedAt = 0): TalliedWorker {
  return {
    id,
    state: "serving",
    spawnedAt,
    requests,
    responses: [0, twoXx, 0, requests - twoXx, 0],
    connections: 1,
    heap: 1024,
  };
}

Deno.test("tally: totals never go back when a worker is replaced", () => {
  const tally = new PoolTally(1000, 2);
  tally.spawned();
  tally.spawned();
  const a = worker(1, 40, 38);
  const b = worker(2, 10, 10);
  const before = tally.metrics(5000, [a, b]);
  assert.equal(before.requests, 50);
  assert.deepEqual(before.responses, [0, 48, 0, 2, 0]);
  // Worker 1 recycled: its counts move into the totals, its replacement starts at 0.
  tally.gone(a);
  tally.spawned();
  const after = tally.metrics(6000, [b, worker(3, 0, 0, 5500)]);
  assert.equal(after.requests, 50);
  assert.deepEqual(after.responses, [0, 48, 0, 2, 0]);
  assert.equal(after.restarts, 1, "the replacement, not the initial two");
  assert.deepEqual(after.workers.map((w) => [w.id, w.uptime]), [[2, 6], [3, 1]]);
  assert.equal(after.uptime, 5);
});

Deno.test("tally: crashes are counted, restarts never below zero", () => {
  const tally = new PoolTally(0, 4);
  tally.spawned();
  tally.crashed();
  tally.crashed();
  const metrics = tally.metrics(0, []);
  assert.equal(metrics.crashes, 2);
  assert.equal(metrics.restarts, 0, "fewer started than asked for so far");
  assert.equal(metrics.requests, 0);
});
