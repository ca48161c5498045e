/** The queue decoded body data waits in: one growing array, whatever the pieces. */
import assert from "node:assert/strict";
import { ByteQueue } from "../../lib/engine/byte_queue.ts";

Deno.test("byte queue: bytes come out in order, whole or into arrays of any size", () => {
  const queue = new ByteQueue();
  const source = Uint8Array.from({ length: 100 }, (_, i) => i);
  for (let at = 0; at < 100; at += 7) queue.append(source, at, Math.min(at + 7, 100));
  assert.equal(queue.length, 100);
  const into = new Uint8Array(30);
  assert.deepEqual([...queue.take(into)], [...source.subarray(0, 30)]);
  assert.deepEqual([...queue.take(null)], [...source.subarray(30)]);
  assert.equal(queue.length, 0);
});

Deno.test("byte queue: a million one-byte pieces cost about a megabyte, not a million arrays (issue 13 item 1)", () => {
  const queue = new ByteQueue();
  const one = new Uint8Array([42]);
  for (let i = 0; i < 1_000_000; i++) queue.append(one, 0, 1);
  const all = queue.takeAll();
  assert.equal(all.length, 1_000_000);
  assert.ok(all.buffer.byteLength <= 2 * 1_000_000 + 16 * 1024, `${all.buffer.byteLength} bytes`);
  assert.equal(queue.length, 0);
});

Deno.test("byte queue: space freed at the front is reused before the array grows", () => {
  const queue = new ByteQueue();
  const piece = new Uint8Array(4096).fill(1);
  queue.append(piece, 0, 4096);
  const first = queue.takeAll().buffer;
  for (let i = 0; i < 100; i++) {
    queue.append(piece, 0, 4096);
    queue.take(new Uint8Array(4096));
  }
  queue.append(piece, 0, 4096);
  assert.ok(queue.takeAll().buffer.byteLength <= 4 * first.byteLength);
});
