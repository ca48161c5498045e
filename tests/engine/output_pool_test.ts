/** The worker's output buffer pool: size classes, reuse, and the bound on what it keeps. */
import assert from "node:assert/strict";
import { borrowBuffer, returnBuffer } from "../../lib/engine/output_pool.ts";

Deno.test("output pool: a borrowed buffer is the smallest power of two from 16 KiB that fits", () => {
  assert.equal(borrowBuffer(1).length, 16 * 1024);
  assert.equal(borrowBuffer(16 * 1024).length, 16 * 1024);
  assert.equal(borrowBuffer(16 * 1024 + 1).length, 32 * 1024);
  assert.equal(borrowBuffer(1024 * 1024).length, 1024 * 1024);
  assert.equal(borrowBuffer(1024 * 1024 + 1).length, 1024 * 1024 + 1, "beyond 1 MiB: exact");
});

Deno.test("output pool: a returned buffer is lent again; an odd-sized one is not kept", () => {
  const buffer = borrowBuffer(100_000);
  returnBuffer(buffer);
  assert.equal(borrowBuffer(70_000), buffer);
  const odd = new Uint8Array(20_000);
  returnBuffer(odd);
  assert.notEqual(borrowBuffer(20_000), odd);
});

Deno.test("output pool: at most 4 MiB of spare buffers per size", () => {
  const size = 1024 * 1024;
  const lent = Array.from({ length: 6 }, () => borrowBuffer(size));
  for (const buffer of lent) returnBuffer(buffer);
  const again = Array.from({ length: 6 }, () => borrowBuffer(size));
  assert.equal(again.filter((buffer) => lent.includes(buffer)).length, 4);
});
