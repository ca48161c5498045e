/** The health-check rule both engines use (`--health-path`, issue 14 item 4). */
import assert from "node:assert/strict";
import { healthResponse, isHealthCheck } from "../../lib/http/health.ts";

Deno.test("isHealthCheck: GET or HEAD of exactly the path, any query, no body; anything else is the app's", () => {
  assert.ok(isHealthCheck("GET", "/healthz", false, "/healthz"));
  assert.ok(isHealthCheck("HEAD", "/healthz?probe=1", false, "/healthz"));
  assert.ok(!isHealthCheck("GET", "/healthzx", false, "/healthz"));
  assert.ok(!isHealthCheck("GET", "/healthz/x", false, "/healthz"));
  assert.ok(!isHealthCheck("POST", "/healthz", false, "/healthz"));
  assert.ok(!isHealthCheck("GET", "/healthz", true, "/healthz"));
  assert.ok(!isHealthCheck("GET", "/", false, "/healthz"));
});

Deno.test("healthResponse: 200 ok, or 503 draining with Retry-After; never cached", async () => {
  const up = healthResponse(true);
  assert.equal(up.status, 200);
  assert.equal(await up.text(), "ok\n");
  assert.equal(up.headers.get("cache-control"), "no-store");
  const down = healthResponse(false);
  assert.equal(down.status, 503);
  assert.equal(down.headers.get("retry-after"), "1");
  assert.equal(await down.text(), "draining\n");
});
