/** The coarse clock: it holds still between ticks, and a tick reads the real time. */
import assert from "node:assert/strict";
import { now, tick } from "../../lib/engine/clock.ts";

Deno.test("clock: now() is the last tick's time until the next tick", async () => {
  const ticked = tick();
  assert.ok(Math.abs(ticked - Date.now()) < 50);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(now(), ticked, "no tick, no change");
  const later = tick();
  assert.ok(later >= ticked + 25, `${later - ticked} ms`);
  assert.equal(now(), later);
});
