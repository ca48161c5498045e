/**
 * Compression decisions (`lib/http/compression.ts`): Accept-Encoding preference with q-values,
 * compressible types, when a response must not be transformed, and the header changes
 * (issue 16 item 9).
 */
import assert from "node:assert/strict";
import {
  addVary,
  compressionPlan,
  encodedHeaders,
  isCompressible,
  preferredCoding,
} from "../../lib/http/compression.ts";
import { utf8Length } from "../../lib/http/utf8_length.ts";

Deno.test("compression: Accept-Encoding picks the coding Deno.serve picks on Deno's own cases", () => {
  // The cases of ext/http/http_next.rs compression_tests.
  assert.equal(preferredCoding("gzip, deflate, br, zstd"), "br");
  assert.equal(preferredCoding("zstd, gzip, deflate, br"), "br");
  assert.equal(preferredCoding("gzip;q=1.0, br;q=1.0"), "br");
  assert.equal(preferredCoding("gzip;q=1.0, br;q=0.9, zstd;q=1.0"), "gzip");
  assert.equal(preferredCoding("gzip;q=0.5, br;q=0.9"), "br");
  assert.equal(preferredCoding("identity;q=1.0, gzip;q=0.9, br;q=0.9"), null);
  assert.equal(preferredCoding("br, compress"), "br");
  assert.equal(preferredCoding("gzip, br;q=2"), "gzip", "q over 1 ignores that entry");
  assert.equal(preferredCoding("compress, deflate"), null);
  assert.equal(preferredCoding(null), null);
  assert.equal(preferredCoding(""), null);
});

Deno.test("compression: RFC 9110 grammar: whitespace, case, q=0, '*', x-gzip", () => {
  assert.equal(preferredCoding("GZIP ; Q = 0.8 , br ; q=0.7"), "gzip");
  assert.equal(preferredCoding("br;q=0, gzip;q=0"), null, "q=0 means not acceptable");
  assert.equal(preferredCoding("*"), "br");
  assert.equal(preferredCoding("*;q=0.5, br;q=0.1"), "gzip", "* covers codings not listed");
  assert.equal(preferredCoding("*;q=0"), null);
  assert.equal(preferredCoding("x-gzip"), "gzip");
  assert.equal(
    preferredCoding("gzip;q=0.5, identity;q=0.5"),
    "gzip",
    "a tie with identity compresses",
  );
  assert.equal(preferredCoding("gzip;q=1.0001"), null, "at most three decimals");
  assert.equal(preferredCoding("gzip;level=9"), null, "a parameter other than q is not a weight");
  assert.equal(preferredCoding("br, gzip", ["gzip"]), "gzip", "only codings the runtime has");
});

Deno.test("compression: compressible types are Deno's list plus any +json/+xml, parameters ignored", () => {
  for (
    const type of [
      "text/html; charset=utf-8",
      "TEXT/PLAIN",
      "application/json",
      "image/svg+xml",
      "application/vnd.api+json",
      "application/wasm",
      "text/css",
    ]
  ) {
    assert.ok(isCompressible(type), type);
  }
  for (
    const type of [
      "image/png",
      "application/octet-stream",
      "text/event-stream",
      "video/mp4",
      "application/zip",
      "text/fake",
      "",
      "json",
    ]
  ) {
    assert.ok(!isCompressible(type), type);
  }
  assert.ok(!isCompressible(null));
});

function plan(
  headers: Record<string, string>,
  { method = "GET", status = 200, bodyLength = 1000 as number | null, accept = "gzip" } = {},
) {
  return compressionPlan({ method, status, headers: new Headers(headers), bodyLength }, accept);
}

Deno.test("compression: a response that must not be transformed is not eligible", () => {
  const html = { "content-type": "text/html" };
  assert.deepEqual(plan(html), { eligible: true, coding: "gzip" });
  assert.deepEqual(
    plan(html, { bodyLength: null }),
    { eligible: true, coding: "gzip" },
    "a stream",
  );
  const not = [
    plan({ ...html, "content-encoding": "gzip" }),
    plan({ ...html, "content-range": "bytes 0-9/100" }, { status: 206 }),
    plan({ ...html, "cache-control": "public, No-Transform" }),
    plan(html, { method: "HEAD" }),
    plan(html, { status: 204 }),
    plan(html, { status: 304 }),
    plan(html, { status: 101 }),
    plan(html, { bodyLength: 0 }),
    plan(html, { bodyLength: 63 }),
    plan({ "content-type": "image/png" }),
    plan({}),
  ];
  for (const [i, result] of not.entries()) {
    assert.deepEqual(result, { eligible: false, coding: null }, `case ${i}`);
  }
  assert.deepEqual(
    plan(html, { bodyLength: 64 }),
    { eligible: true, coding: "gzip" },
    "64 bytes is enough",
  );
  assert.deepEqual(plan(html, { accept: "identity" }), { eligible: true, coding: null });
  assert.deepEqual(plan({ ...html, "cache-control": "no-transformer" }).eligible, true);
});

Deno.test("compression: Vary gets Accept-Encoding once, and never next to '*'", () => {
  const cases: [string | null, string][] = [
    [null, "Accept-Encoding"],
    ["Origin", "Origin, Accept-Encoding"],
    ["origin, accept-encoding", "origin, accept-encoding"],
    ["*", "*"],
  ];
  for (const [before, after] of cases) {
    const headers = new Headers(before === null ? {} : { vary: before });
    addVary(headers);
    assert.equal(headers.get("vary"), after);
  }
});

Deno.test("compression: an encoded body drops Content-Length and weakens a strong ETag only", () => {
  const strong = encodedHeaders(
    new Headers({
      etag: '"abc"',
      "content-length": "1200",
      "content-type": "text/html",
      "x-app": "1",
    }),
    "br",
  );
  assert.deepEqual([...strong], [
    ["content-encoding", "br"],
    ["content-type", "text/html"],
    ["etag", 'W/"abc"'],
    ["vary", "Accept-Encoding"],
    ["x-app", "1"],
  ]);
  assert.equal(encodedHeaders(new Headers({ etag: 'W/"abc"' }), "gzip").get("etag"), 'W/"abc"');
});

Deno.test("utf8Length counts what TextEncoder writes, lone surrogates included", () => {
  const encoder = new TextEncoder();
  for (const text of ["", "ascii", "é", "✓", "😀", "a\ud800b", "\udc00", "\ud83d", "x😀y\ud83dé"]) {
    assert.equal(utf8Length(text), encoder.encode(text).byteLength, JSON.stringify(text));
  }
});
