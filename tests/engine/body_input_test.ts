/** A request body's deadline: an idle limit per read and a minimum average rate (issue 13 item 3). */
import assert from "node:assert/strict";
import { bodyReadDeadline, MIN_BODY_RATE } from "../../lib/engine/body_input.ts";

const TIMEOUT = 300_000;

Deno.test("body deadline: each read may be silent for --timeout", () => {
  assert.equal(bodyReadDeadline(0, 10 * 1024 * 1024, TIMEOUT, 1000), 1000 + TIMEOUT);
});

Deno.test("body deadline: a byte every 299 s is cut off about --timeout after the body began", () => {
  let at = 0;
  let received = 0;
  while (at + 299_000 <= bodyReadDeadline(0, received, TIMEOUT, at)) {
    at += 299_000;
    received++;
  }
  assert.ok(at < 2 * TIMEOUT, `still going at ${at} ms`);
});

Deno.test("body deadline: an upload at the minimum rate is never cut off for being slow", () => {
  // One second's worth of bytes each second, for an hour.
  for (let s = 1; s <= 3600; s++) {
    const at = s * 1000;
    assert.ok(bodyReadDeadline(0, (s - 1) * MIN_BODY_RATE, TIMEOUT, at) > at + 1000 - 1, `${s} s`);
  }
});
