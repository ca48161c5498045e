/**
 * Host and absolute-form authority validation (RFC 9112 §3.2, RFC 9110 §4.2.1, §7.2,
 * RFC 3986 §3.2.2): `uri-host [":" port]`, and never one the app's `new URL()` rejects.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { absoluteAuthority, validAbsoluteTarget, validHost } from "../../lib/http/authority.ts";

Deno.test("authority: names, IPv4 and IPv6 literals, with or without a port, are valid", () => {
  for (
    const host of [
      "example.com",
      "Example.COM:8080",
      "127.0.0.1",
      "127.0.0.1:8080",
      "[::1]",
      "[::1]:443",
      "[2001:db8::1]",
      "[::ffff:192.0.2.1]",
      "a-b_c~d.e",
      "host:",
      "xn--bcher-kva.example",
    ]
  ) {
    assert.equal(validHost(host), true, host);
  }
});

Deno.test("authority: an empty Host is allowed (RFC 9112 §3.2); the server's address stands in", () => {
  assert.equal(validHost(""), true);
});

Deno.test("authority: the attacks of issue 13 item 6 are refused", () => {
  for (const host of ["x:abc", "[::1", "a%zz", "a:1:2"]) assert.equal(validHost(host), false, host);
});

Deno.test("authority: ports above 65535, empty hosts, userinfo, zones and IPvFuture are refused", () => {
  for (
    const host of [
      "a:65536",
      ":80",
      "u@host",
      "[fe80::1%25eth0]",
      "[v1.x]",
      "[1::2::3]",
      "[1:2:3:4:5:6:7:8:9]",
      "a b",
      "a/b",
      "1.2.3.256",
      "a%25",
    ]
  ) {
    assert.equal(validHost(host), false, host);
  }
});

Deno.test("authority: every Host accepted makes a URL that new URL() parses (property)", () => {
  const chars = "ab9.-_~!$&'()*+,;=:%[]@/0fF1xX";
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...chars), { maxLength: 16 }).map((a) => a.join("")),
      (host) => {
        if (validHost(host) && host !== "") assert.ok(URL.canParse(`http://${host}/`), host);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("authority: IPv6 literals are judged as the URL parser judges them (property)", () => {
  const chars = "0123456789abcdefABCDEF:::..";
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 40 }).map((a) => a.join("")),
      (inside) => {
        const host = `[${inside}]`;
        assert.equal(validHost(host), URL.canParse(`http://${host}/`), host);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("authority: an absolute-form target needs a non-empty valid host (RFC 9110 §4.2.1, §4.2.4)", () => {
  assert.deepEqual(absoluteAuthority("http://example.com/x"), [7, 18]);
  assert.deepEqual(absoluteAuthority("HTTPS://a?q"), [8, 9]);
  assert.equal(absoluteAuthority("/x"), null);
  assert.equal(absoluteAuthority("ftp://a/"), null);
  assert.equal(validAbsoluteTarget("http://example.com:81/a?b"), true);
  assert.equal(validAbsoluteTarget("http://example.com"), true);
  for (const target of ["http:///x", "http://", "http://u@h/", "http://a:1:2/", "http://[::1/"]) {
    assert.equal(validAbsoluteTarget(target), false, target);
  }
});
