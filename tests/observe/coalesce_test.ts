/** The rate-limited reporter (issue 13 item 7), on a fake clock. */
import assert from "node:assert/strict";
import { coalescedLine, Coalescer } from "../../lib/observe/coalesce.ts";

Deno.test("coalesce: the first event of a kind is reported; the same kind within the interval is held", () => {
  const c = new Coalescer(1000);
  assert.deepEqual(c.admit("a", 0), { report: true, held: 0 });
  assert.deepEqual(c.admit("a", 10), { report: false, held: 0 });
  assert.deepEqual(c.admit("a", 999), { report: false, held: 0 });
  assert.deepEqual(c.admit("b", 500), { report: true, held: 0 }, "kinds are counted apart");
});

Deno.test("coalesce: the next report after the interval carries the count held back", () => {
  const c = new Coalescer(1000);
  c.admit("a", 0);
  for (let t = 1; t <= 500; t++) c.admit("a", t);
  assert.deepEqual(c.admit("a", 1000), { report: true, held: 500 });
  assert.deepEqual(c.admit("a", 1001), { report: false, held: 0 });
});

Deno.test("coalesce: a flood of 5,000 events in 20 s makes at most one report a second", () => {
  const c = new Coalescer(1000);
  let reports = 0;
  let counted = 0;
  for (let t = 0; t < 20_000; t += 4) {
    const admission = c.admit("accept failed", t);
    if (admission.report) {
      reports++;
      counted += 1 + admission.held;
    }
  }
  for (const [, held] of c.due(21_000)) counted += held;
  assert.ok(reports <= 20, `${reports} reports`);
  assert.equal(counted, 5000, "every event is counted once");
});

Deno.test("coalesce: held counts fall due when the flood stops, then the kind is forgotten", () => {
  const c = new Coalescer(1000);
  c.admit("a", 0);
  c.admit("a", 100);
  c.admit("a", 200);
  assert.equal(c.nextDue(), 1000);
  assert.deepEqual(c.due(999), []);
  assert.deepEqual(c.due(1000), [["a", 2]]);
  assert.equal(c.nextDue(), undefined, "nothing more held");
  assert.deepEqual(c.due(2000), [], "quiet for an interval: forgotten");
  assert.deepEqual(c.admit("a", 2001), { report: true, held: 0 }, "reported at once again");
});

Deno.test("coalesce: the line says how many more there were", () => {
  assert.equal(coalescedLine("the app failed", 0, 1000), "the app failed");
  assert.equal(
    coalescedLine("the app failed", 41, 1000),
    "the app failed (41 more like it in 1 s)",
  );
});
