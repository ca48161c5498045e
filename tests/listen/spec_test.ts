/** Listen specs: where the relay listener goes among the workers' listeners. */
import assert from "node:assert/strict";
import { isRelaySpec, type ListenSpec, relayInPlace } from "../../lib/listen/spec.ts";

Deno.test("relayInPlace: the routed listeners become one relay listener, where the first stood", () => {
  const a: ListenSpec = { kind: "tcp", hostname: "0.0.0.0", port: 80 };
  const s1: ListenSpec = { kind: "unix", path: "/tmp/one.sock" };
  const b: ListenSpec = { kind: "tcp", hostname: "::", port: 81 };
  const s2: ListenSpec = { kind: "abstract", name: "two" };
  const routed = (spec: ListenSpec) => spec.kind !== "tcp";
  const relay = { token: "00ff", routes: [s1, s2], scheme: "http" as const };
  const out = relayInPlace([a, s1, b, s2], routed, relay);
  assert.equal(out.length, 3);
  assert.equal(out[0], a);
  assert.ok(isRelaySpec(out[1]));
  assert.deepEqual(out[1], { kind: "tcp", hostname: "127.0.0.1", port: 0, relay });
  assert.equal(out[2], b);
  assert.deepEqual(relayInPlace([a, b], routed, relay), [a, b], "nothing routed, nothing relayed");
});
