/** The one mapping from resolved options to the engine's configuration. */
import assert from "node:assert/strict";
import { engineOptions, engineSettings } from "../../lib/engine/config.ts";
import { resolveOptions } from "../../lib/options/mod.ts";

Deno.test("config: seconds become milliseconds, and 0 limits become Infinity", () => {
  const settings = engineSettings(resolveOptions({
    app: "./app.ts",
    timeout: 2.5,
    headerTimeout: 3,
    keepaliveTimeout: 0,
    maxKeepaliveReqs: 0,
    maxRequestBody: 0,
  }));
  assert.equal(settings.timeout, 2500);
  assert.equal(settings.headerTimeout, 3000);
  assert.equal(settings.keepaliveTimeout, 0);
  assert.equal(settings.maxKeepaliveRequests, Infinity);
  assert.equal(settings.maxRequestBody, Infinity);
});

Deno.test("config: development shows error details; the Server name is passed on", () => {
  const dev = engineSettings(resolveOptions({ app: "./app.ts", env: "development" }));
  assert.equal(dev.development, true);
  const prod = engineSettings(resolveOptions({ app: "./app.ts", serverSoftware: "X/1" }));
  assert.equal(prod.development, false);
  assert.equal(prod.serverSoftware, "X/1");
});

Deno.test("config: engine options take only the engine's fields from a worker's start message", () => {
  const handler = () => new Response("x");
  const message = {
    ...engineSettings(resolveOptions({ app: "./app.ts" })),
    app: "file:///app.ts",
    id: 3,
  };
  const options = engineOptions(message, handler);
  assert.equal(options.handler, handler);
  assert.ok(!("app" in options) && !("id" in options));
  assert.equal(options.limits.maxHeaderFields, 100);
});
