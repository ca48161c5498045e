/** `listenShared`: listeners on one address share one accept queue (Deno's `loadBalanced`). */
import assert from "node:assert/strict";
import { listenShared } from "../../lib/deno/shared_listen.ts";

Deno.test("listenShared: a second listener on the same port joins the first instead of failing", async () => {
  // Shared by the address asked for, so a real port (as the supervisor picks one), not 0.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  using first = listenShared({ hostname: "127.0.0.1", port });
  using second = listenShared({ hostname: "127.0.0.1", port });
  assert.equal(second.addr.port, first.addr.port);
  using client = await Deno.connect({ hostname: "127.0.0.1", port: first.addr.port });
  // Either listener may take it: both take from the one queue.
  const accepted = await Promise.race([first.accept(), second.accept()]);
  accepted.close();
  assert.ok(client);
});
