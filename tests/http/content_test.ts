/** Which responses carry content and a length (RFC 9110 §6.4.1, §8.6, §15; RFC 9112 §6.3). */
import assert from "node:assert/strict";
import {
  responseHasContent,
  statusHasContent,
  statusMayDeclareLength,
} from "../../lib/http/content.ts";

Deno.test("content: 1xx, 204 and 304 never have content (RFC 9110 §15.2, §15.3.5, §15.4.5)", () => {
  for (const status of [100, 101, 103, 204, 304]) assert.equal(statusHasContent(status), false);
  for (const status of [200, 201, 206, 301, 404, 500]) assert.equal(statusHasContent(status), true);
});

Deno.test("content: a response to HEAD has none, whatever its status (RFC 9112 §6.3 rule 1)", () => {
  assert.equal(responseHasContent(200, true), false);
  assert.equal(responseHasContent(200, false), true);
  assert.equal(responseHasContent(204, false), false);
});

Deno.test("content: Content-Length is never sent in 1xx or 204, but may be in 304 (RFC 9110 §8.6)", () => {
  assert.equal(statusMayDeclareLength(101), false);
  assert.equal(statusMayDeclareLength(204), false);
  assert.equal(statusMayDeclareLength(304), true);
  assert.equal(statusMayDeclareLength(200), true);
});
