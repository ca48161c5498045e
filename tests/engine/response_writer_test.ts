/** The response writer's buffers: one write in flight at a time, pool buffers kept while referenced. */
import assert from "node:assert/strict";
import { borrowBuffer, returnBuffer } from "../../lib/engine/output_pool.ts";
import { ResponseWriter, type WriteHost } from "../../lib/engine/response_writer.ts";

function host(): WriteHost {
  return {
    writeStarted() {},
    writeEnded() {},
    headWritten() {},
    closed: false,
    streamFailed() {},
    warn() {},
  };
}

/** A connection whose writes finish only when the test says so. */
function heldConn() {
  const writes: { bytes: Uint8Array; copy: Uint8Array; done: () => void }[] = [];
  const conn = {
    write(bytes: Uint8Array) {
      return new Promise<number>((resolve) =>
        writes.push({ bytes, copy: bytes.slice(), done: () => resolve(bytes.length) })
      );
    },
  } as unknown as Deno.Conn;
  return { conn, writes };
}

Deno.test("writer: a pool buffer is not lent again while a write refers to it (issue 13 item 8)", async () => {
  const { conn, writes } = heldConn();
  const writer = new ResponseWriter(conn, host(), "", false);
  writer.output.append("a".repeat(1000));
  const flushing = writer.flush();
  await Promise.resolve();
  assert.equal(writes.length, 1);
  const inFlight = writes[0].bytes.buffer;
  // Output added meanwhile, and other connections borrowing, never get that buffer.
  writer.output.append("b".repeat(40_000));
  const borrowed = Array.from({ length: 8 }, () => borrowBuffer(16 * 1024));
  for (const buffer of borrowed) assert.notEqual(buffer.buffer, inFlight);
  for (const buffer of borrowed) returnBuffer(buffer);
  assert.deepEqual(writes[0].bytes, writes[0].copy, "its bytes unchanged");
  writes[0].done();
  await flushing;
});

Deno.test("writer: flushes never overlap; output added during a write follows it in order (issue 13 item 8)", async () => {
  const { conn, writes } = heldConn();
  const writer = new ResponseWriter(conn, host(), "", false);
  writer.output.append("first;");
  const one = writer.flush();
  writer.output.append("second;");
  const two = writer.flush();
  const three = writer.flush();
  await Promise.resolve();
  assert.equal(writes.length, 1, "the second waits for the first");
  writes[0].done();
  await one;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(writes.length, 2);
  writes[1].done();
  await Promise.all([two, three]);
  const text = writes.map((w) => new TextDecoder().decode(w.copy)).join("");
  assert.equal(text, "first;second;");
});
