/**
 * The pool's rules (lib/pool/policy.ts), one test or more per rule, on stand-in workers and
 * plain times: no thread, no timer, no log.
 */

import assert from "node:assert/strict";
import {
  backoffUntil,
  CRASH_PACE,
  decide,
  EARLY_DEATH,
  FIRST_BACKOFF,
  hasServed,
  MAX_BACKOFF,
  nextDesired,
  NO_BACKOFF,
  recordExit,
} from "../../lib/pool/policy.ts";
import { config, only, pool, serving, worker } from "../_helpers/pool_policy.ts";

// Rule 1: capacity.

Deno.test("rule 1: a worker at its request limit keeps accepting while no other worker does", () => {
  const limited = serving(1, { state: "limited", cause: "request-limit" });
  const actions = decide(pool({ desired: 1, workers: [limited] }), config, 100);
  assert.deepEqual(only(actions, "retire"), []);
  assert.deepEqual(only(actions, "spawn"), [{ type: "spawn", count: 1 }]);
});

Deno.test("rule 1: a worker that wants out (limit, retireWorker()) leaves once another accepts", () => {
  for (const cause of ["request-limit", "app"] as const) {
    const limited = serving(1, { state: "limited", cause });
    const actions = decide(pool({ workers: [limited, serving(2)] }), config, 100);
    assert.deepEqual(only(actions, "retire"), [{ type: "retire", id: 1, mode: "recycle", cause }]);
  }
});

Deno.test("rule 1: two workers wanting out at once: one stays until another accepts", () => {
  const workers = [1, 2].map((id) => serving(id, { state: "limited", cause: "request-limit" }));
  const actions = decide(pool({ workers }), config, 100);
  assert.deepEqual(only(actions, "retire").map((a) => a.id), [1]);
  assert.deepEqual(only(actions, "spawn"), [{ type: "spawn", count: 2 }]);
});

Deno.test("rule 1: a crashed or bloated worker stays until its replacement listens", () => {
  for (const cause of ["crash", "memory"] as const) {
    const limited = serving(1, { state: "limited", cause });
    const waiting = decide(pool({ workers: [limited, serving(2), worker(3)] }), config, 100);
    assert.deepEqual(only(waiting, "retire"), [], cause);
    const full = decide(pool({ workers: [limited, serving(2), serving(3)] }), config, 100);
    assert.deepEqual(only(full, "retire"), [{ type: "retire", id: 1, mode: "recycle", cause }]);
  }
});

Deno.test("rule 1: a restart never stops an old worker before its replacement listens", () => {
  const old = serving(1, { outgoing: true });
  const starting = decide(pool({ workers: [old, serving(2), worker(3)] }), config, 100);
  assert.deepEqual(only(starting, "retire"), []);
  const listening = decide(pool({ workers: [old, serving(2), serving(3)] }), config, 100);
  assert.deepEqual(only(listening, "retire"), [{
    type: "retire",
    id: 1,
    mode: "recycle",
    cause: "restart",
  }]);
});

// Rule 2: spawn interval.

Deno.test("rule 2: at most one spawn per spawn interval, whatever is missing", () => {
  const slow = { ...config, spawnInterval: 1000 };
  const early = decide(pool({ desired: 3, lastSpawn: 500 }), slow, 1000);
  assert.deepEqual(only(early, "spawn"), []);
  assert.deepEqual(only(early, "wait"), [{ type: "wait", until: 1500 }]);
  const due = decide(pool({ desired: 3, lastSpawn: 500 }), slow, 1500);
  assert.deepEqual(only(due, "spawn"), [{ type: "spawn", count: 1 }]);
});

Deno.test("rule 2: without a spawn interval every missing worker starts at once", () => {
  const actions = decide(pool({ desired: 3, workers: [serving(1)], lastSpawn: 99 }), config, 100);
  assert.deepEqual(only(actions, "spawn"), [{ type: "spawn", count: 2 }]);
});

Deno.test("rule 2: until the first worker listens, it is the only one", () => {
  assert.deepEqual(only(decide(pool({ desired: 4, launching: true }), config, 0), "spawn"), [
    { type: "spawn", count: 1 },
  ]);
  assert.deepEqual(decide(pool({ desired: 4, launching: true, workers: [worker(1)] }), config, 0), [
    { type: "wait", until: 60_000 },
  ]);
});

// Rule 3: back-off only for workers that never served (issue 14, item 1).

Deno.test("rule 3: a worker that never listened is a start failure; the back-off doubles up to 30 s", () => {
  let backoff = NO_BACKOFF;
  const delays: number[] = [];
  for (let i = 1; i <= 10; i++) {
    const verdict = recordExit(
      backoff,
      undefined,
      worker(i, { spawnedAt: i * 100_000 }),
      i * 100_000 + 50,
    );
    assert.ok(verdict.startFailure);
    delays.push(verdict.delay);
    backoff = verdict.backoff;
  }
  assert.deepEqual(delays, [
    250,
    500,
    1000,
    2000,
    4000,
    8000,
    16_000,
    MAX_BACKOFF,
    MAX_BACKOFF,
    MAX_BACKOFF,
  ]);
});

Deno.test("rule 3: a worker that served a request and dies, even at once, is no start failure (issue 14, item 1)", () => {
  const crashed = serving(5, { servingAt: 1000, requests: 1 });
  const pending = { failures: 3, lastFailure: 900, notBefore: 2900 };
  const verdict = recordExit(pending, undefined, crashed, 1010);
  assert.equal(verdict.startFailure, false);
  // Its replacement starts at once, though a back-off was pending from earlier failures.
  const after = decide(pool({ workers: [serving(2)], backoff: verdict.backoff }), config, 1010);
  assert.deepEqual(only(after, "spawn"), [{ type: "spawn", count: 1 }]);
  // The failures in a row are kept: the next start failure goes on doubling.
  assert.equal(verdict.backoff.failures, 3);
});

Deno.test("rule 3: a worker in service for 2 s has served, even without a request", () => {
  const idle = serving(1, { servingAt: 1000, requests: 0 });
  assert.equal(hasServed(idle, 1000 + EARLY_DEATH - 1), false);
  assert.equal(hasServed(idle, 1000 + EARLY_DEATH), true);
  assert.equal(recordExit(NO_BACKOFF, undefined, idle, 1500).startFailure, true);
  assert.equal(recordExit(NO_BACKOFF, undefined, idle, 1000 + EARLY_DEATH).startFailure, false);
});

Deno.test("rule 3: workers dying together count as one failure", () => {
  const first = recordExit(NO_BACKOFF, undefined, worker(1, { spawnedAt: 0 }), 100);
  const second = recordExit(first.backoff, undefined, worker(2, { spawnedAt: 0 }), 101);
  assert.equal(second.backoff.failures, 1);
  const later = recordExit(second.backoff, undefined, worker(3, { spawnedAt: 500 }), 600);
  assert.equal(later.backoff.failures, 2);
});

Deno.test("rule 3: the back-off holds while another worker accepts", () => {
  const backoff = { failures: 3, lastFailure: 1000, notBefore: 2000 };
  const actions = decide(pool({ workers: [serving(1)], backoff }), config, 1500);
  assert.deepEqual(only(actions, "spawn"), []);
  assert.deepEqual(only(actions, "wait"), [{ type: "wait", until: 2000 }]);
  assert.deepEqual(only(decide(pool({ workers: [serving(1)], backoff }), config, 2000), "spawn"), [
    { type: "spawn", count: 1 },
  ]);
});

Deno.test("rule 3: while no worker accepts, the back-off holds no longer than its first step (issue 14, item 1)", () => {
  const backoff = { failures: 6, lastFailure: 1000, notBefore: 1000 + 8000 };
  assert.equal(backoffUntil(backoff, false), 1000 + FIRST_BACKOFF);
  const early = decide(pool({ backoff }), config, 1100);
  assert.deepEqual(only(early, "wait"), [{ type: "wait", until: 1000 + FIRST_BACKOFF }]);
  assert.deepEqual(only(decide(pool({ backoff }), config, 1000 + FIRST_BACKOFF), "spawn"), [
    { type: "spawn", count: 2 },
  ]);
});

Deno.test("rule 3: a worker spawned after the last failure that served ends the back-off", () => {
  const backoff = { failures: 4, lastFailure: 1000, notBefore: 5000 };
  const fresh = serving(7, { spawnedAt: 1200, servingAt: 1300, requests: 0 });
  assert.deepEqual(
    only(decide(pool({ workers: [fresh, serving(2)], backoff }), config, 1400), "forgive"),
    [],
  );
  assert.deepEqual(
    only(
      decide(pool({ workers: [fresh, serving(2)], backoff }), config, 1300 + EARLY_DEATH),
      "forgive",
    ),
    [{ type: "forgive" }],
  );
  // An old worker serving all along proves nothing about the new code.
  assert.deepEqual(
    only(decide(pool({ workers: [serving(2)], backoff }), config, 9000), "forgive"),
    [],
  );
});

// Rule 4: restarts.

Deno.test("rule 4: a restart replaces the oldest old worker first, one at a time", () => {
  const restart = { cutoff: 3, current: undefined };
  const actions = decide(pool({ workers: [serving(1), serving(2)], restart }), config, 0);
  assert.deepEqual(only(actions, "restart-next"), [{ type: "restart-next", id: 1 }]);
  const busy = { cutoff: 3, current: 1 };
  const during = decide(
    pool({ workers: [serving(1, { outgoing: true }), serving(2)], restart: busy }),
    config,
    0,
  );
  assert.deepEqual(only(during, "restart-next"), []);
});

Deno.test("rule 4: an old worker still starting comes up before it is replaced", () => {
  const actions = decide(
    pool({ workers: [worker(1)], restart: { cutoff: 2, current: undefined } }),
    config,
    0,
  );
  assert.deepEqual(actions.filter((a) => a.type.startsWith("restart")), []);
});

Deno.test("rule 4: the restart moves on once the replaced worker stopped accepting", () => {
  const restart = { cutoff: 3, current: 1 };
  const retiring = serving(1, { state: "retiring", mode: "recycle", retireDeadline: 9999 });
  const open = decide(pool({ workers: [retiring, serving(2), serving(3)], restart }), config, 0);
  assert.deepEqual(only(open, "restart-step"), []);
  const closed = decide(
    pool({ workers: [{ ...retiring, closed: true }, serving(2), serving(3)], restart }),
    config,
    0,
  );
  assert.deepEqual(only(closed, "restart-step"), [{ type: "restart-step" }]);
  const gone = decide(pool({ workers: [serving(2), serving(3)], restart }), config, 0);
  assert.deepEqual(only(gone, "restart-step"), [{ type: "restart-step" }]);
});

Deno.test("rule 4: the restart is finished once no old worker is left", () => {
  const restart = { cutoff: 3, current: undefined };
  const actions = decide(pool({ workers: [serving(3), serving(4)], restart }), config, 0);
  assert.deepEqual(only(actions, "restart-finished"), [{ type: "restart-finished" }]);
});

Deno.test("rule 4: a new worker failing at start stops the restart; an old one failing does not", () => {
  const restart = { cutoff: 3, current: 1 };
  assert.equal(recordExit(NO_BACKOFF, restart, worker(3), 10).stopsRestart, true);
  assert.equal(recordExit(NO_BACKOFF, restart, worker(2), 10).stopsRestart, false);
  assert.equal(recordExit(NO_BACKOFF, restart, serving(4), 10).stopsRestart, false);
  assert.equal(recordExit(NO_BACKOFF, undefined, worker(3), 10).stopsRestart, false);
});

// Rule 6: more or fewer workers.

Deno.test("rule 6: fewer workers: the newest leaves, workers still starting first", () => {
  const trimmed = decide(pool({ desired: 1, workers: [serving(1), serving(2)] }), config, 0);
  assert.deepEqual(only(trimmed, "retire"), [{
    type: "retire",
    id: 2,
    mode: "recycle",
    cause: "fewer-workers",
  }]);
  const starting = decide(pool({ workers: [serving(1), serving(2), worker(3)] }), config, 0);
  assert.deepEqual(only(starting, "abandon"), [{ type: "abandon", id: 3, cause: "fewer-workers" }]);
  assert.deepEqual(only(starting, "retire"), []);
});

Deno.test("rule 6: TTIN and TTOU move between one worker and the ceiling", () => {
  assert.equal(nextDesired(2, 1, 8), 3);
  assert.equal(nextDesired(8, 1, 8), 8);
  assert.equal(nextDesired(1, -1, 8), 1);
  assert.equal(nextDesired(3, -1, 8), 2);
});

// Rule 7: watchdogs.

Deno.test("rule 7: a worker silent for the worker timeout is abandoned as hung", () => {
  const quiet = serving(1, { lastSeen: 1000 });
  const before = decide(pool({ desired: 1, workers: [quiet] }), config, 1000 + 29_999);
  assert.deepEqual(only(before, "abandon"), []);
  assert.deepEqual(only(before, "wait"), [{ type: "wait", until: 31_000 }]);
  const after = decide(pool({ desired: 1, workers: [quiet] }), config, 31_000);
  assert.deepEqual(only(after, "abandon"), [{ type: "abandon", id: 1, cause: "hung" }]);
  // Its replacement is spawned in the same pass: it no longer counts.
  assert.deepEqual(only(after, "spawn"), [{ type: "spawn", count: 1 }]);
});

Deno.test("rule 7: a worker that does not listen in time, or does not finish retiring, is abandoned", () => {
  assert.deepEqual(
    only(decide(pool({ desired: 1, workers: [worker(1)] }), config, 60_000), "abandon"),
    [{ type: "abandon", id: 1, cause: "start-timeout" }],
  );
  const retiring = serving(1, { state: "retiring", mode: "recycle", retireDeadline: 5000 });
  const workers = [retiring, serving(2)];
  assert.deepEqual(only(decide(pool({ desired: 1, workers }), config, 4999), "abandon"), []);
  assert.deepEqual(only(decide(pool({ desired: 1, workers }), config, 5000), "abandon"), [
    { type: "abandon", id: 1, cause: "retire-timeout" },
  ]);
});

// Rule 8: crashes and memory (issue 14, items 1 and 6).

Deno.test("rule 8: a worker whose heap passed the limit is marked for replacement", () => {
  const limits = { ...config, maxWorkerMemory: 64 * 1024 * 1024 };
  const big = serving(1, { heap: 64 * 1024 * 1024 + 1 });
  const small = serving(2, { heap: 64 * 1024 * 1024 });
  const actions = decide(pool({ workers: [big, small] }), limits, 0);
  assert.deepEqual(only(actions, "limit"), [{ type: "limit", id: 1, cause: "memory" }]);
  assert.deepEqual(only(decide(pool({ workers: [big] }), config, 0), "limit"), []);
});

Deno.test("rule 8: crashed workers are marked for replacement one per pace", () => {
  const crashed = [1, 2].map((id) => serving(id, { crash: "uncaught Error: boom" }));
  const first = decide(pool({ workers: crashed }), config, 10_000);
  assert.deepEqual(only(first, "limit"), [{ type: "limit", id: 1, cause: "crash" }]);
  assert.deepEqual(only(first, "wait"), [{ type: "wait", until: 10_000 + CRASH_PACE }]);
  const paced = decide(
    pool({ workers: crashed, lastCrashReplacement: 10_000 }),
    config,
    10_000 + CRASH_PACE - 1,
  );
  assert.deepEqual(only(paced, "limit"), []);
  const next = decide(
    pool({ workers: crashed, lastCrashReplacement: 10_000 }),
    config,
    10_000 + CRASH_PACE,
  );
  assert.deepEqual(only(next, "limit"), [{ type: "limit", id: 1, cause: "crash" }]);
});

// Rule 9: shutdown.

Deno.test("rule 9: shutdown abandons starting workers, drains the rest, spawns nothing", () => {
  const workers = [
    worker(1),
    serving(2),
    serving(3, { state: "limited", cause: "request-limit" }),
    serving(4, { state: "retiring", mode: "recycle", retireDeadline: 9999 }),
    serving(5, { state: "retiring", mode: "drain", retireDeadline: 9999 }),
  ];
  const actions = decide(pool({ desired: 6, stopping: true, workers }), config, 0);
  assert.deepEqual(actions.filter((a) => a.type !== "wait"), [
    { type: "abandon", id: 1, cause: "shutdown" },
    { type: "retire", id: 2, mode: "drain", cause: "shutdown" },
    { type: "retire", id: 3, mode: "drain", cause: "shutdown" },
    { type: "retire", id: 4, mode: "drain", cause: "shutdown" },
  ]);
});

Deno.test("rules 4 and 8 together: a worker marked for replacement is not also the restart's next", () => {
  const limits = { ...config, maxWorkerMemory: 100 };
  const restart = { cutoff: 3, current: undefined };
  const workers = [serving(1, { heap: 500 }), serving(2)];
  const actions = decide(pool({ workers, restart }), limits, 0);
  assert.deepEqual(only(actions, "limit"), [{ type: "limit", id: 1, cause: "memory" }]);
  assert.deepEqual(only(actions, "restart-next"), [{ type: "restart-next", id: 2 }]);
});
