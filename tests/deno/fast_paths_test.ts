/**
 * Every fast path through a Deno internal is active on the Deno version the project pins, so a
 * Deno upgrade that changes a layout fails here, loudly, instead of only costing speed.
 */
import assert from "node:assert/strict";
import { fallbackWarning, fastPaths } from "../../lib/deno/fast_paths.ts";
import { socketReader } from "../../lib/deno/socket_read.ts";

/** The Deno version the project is checked on. */
const PINNED = "2.9.6";

Deno.test(`fast paths: all active on the pinned Deno ${PINNED}`, async () => {
  if (Deno.version.deno !== PINNED) {
    console.log(`Deno ${Deno.version.deno}, not ${PINNED}: the report below is for that version`);
  }
  // The socket-read fast path learns its resource-id slot from the first TCP connection.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  using server = await listener.accept();
  socketReader(server);
  assert.ok(client);
  const report = fastPaths();
  assert.deepEqual(report, {
    socketRead: true,
    socketWrite: true,
    responseParts: true,
    requestHeaders: true,
    loadBalanced: true,
  });
  assert.equal(fallbackWarning(report), undefined);
});

Deno.test("fast paths: a fallback is named in one warning line", () => {
  const line = fallbackWarning({
    socketRead: true,
    socketWrite: true,
    responseParts: false,
    requestHeaders: false,
    loadBalanced: true,
  });
  assert.ok(line !== undefined);
  assert.match(line, /responseParts, requestHeaders use the public API/);
  assert.ok(!line.includes("\n"));
});
