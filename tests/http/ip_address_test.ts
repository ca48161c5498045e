/**
 * IP address text and ranges (`lib/http/ip_address.ts`): strict parsing, RFC 5952 output, CIDR.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import {
  formatIp,
  inRange,
  parseIp,
  parseIpRange,
  parseIPv4,
  parseIPv6,
} from "../../lib/http/ip_address.ts";

Deno.test("ip: dotted IPv4 parses; leading zeros, short or long forms and junk are refused", () => {
  assert.deepEqual([...parseIPv4("192.0.2.255")!], [192, 0, 2, 255]);
  assert.deepEqual([...parseIPv4("0.0.0.0")!], [0, 0, 0, 0]);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.256",
      "1..3.4",
      "1.2.3.4 ",
      " 1.2.3.4",
      "0x1.2.3.4",
      "1.2.3.-4",
      "1.2.3.",
    ]
  ) {
    assert.equal(parseIPv4(bad), null, bad);
  }
});

Deno.test("ip: IPv6 parses in every RFC 4291 form and formats canonically (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::ffff:c000:0201", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["fe80:0:0:1::", "fe80:0:0:1::"],
  ];
  for (const [text, canonical] of cases) {
    const bytes = parseIPv6(text);
    assert.ok(bytes, text);
    assert.equal(formatIp(bytes), canonical, text);
  }
  for (
    const bad of [
      "",
      ":",
      ":::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1::2::3",
      ":1::",
      "1:",
      "12345::",
      "fe80::1%eth0",
      "::1.2.3",
      "1:2:3:4:5:6:7:1.2.3.4",
      "[::1]",
      "g::",
      "1.2.3.4",
    ]
  ) {
    assert.equal(parseIPv6(bad), null, bad);
  }
});

Deno.test("ip: the parsers agree with node:net isIP on near-valid addresses", () => {
  const chars = "0123456789abcdefABCDEF:.";
  const address = fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join(".")),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIp),
    fc.array(fc.constantFrom(...chars), { maxLength: 40 }).map((a) => a.join("")),
  );
  // One character replaced, inserted or deleted: the cases a strict parser must get right.
  const mutated = fc.tuple(address, fc.nat(), fc.constantFrom(...chars), fc.nat(2)).map(
    ([text, at, c, how]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      if (how === 0) return text.slice(0, i) + c + text.slice(i + 1);
      if (how === 1) return text.slice(0, i) + c + text.slice(i);
      return text.slice(0, i) + text.slice(i + 1);
    },
  );
  fc.assert(
    fc.property(fc.oneof(address, mutated), (text) => {
      assert.equal(parseIPv4(text) !== null, isIP(text) === 4, `v4 ${text}`);
      assert.equal(parseIPv6(text) !== null, isIP(text) === 6, `v6 ${text}`);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("ip: formatting then parsing any 16 bytes gives the same bytes back", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(8), (bytes, zeros) => {
      // Runs of zero groups, the interesting part of the format.
      bytes.fill(0, zeros * 2, Math.min(16, zeros * 2 + 6));
      const text = formatIp(bytes);
      assert.deepEqual([...parseIPv6(text)!], [...bytes], text);
      assert.equal(isIP(text), 6, text);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("ip: an IPv4-mapped address is the IPv4 address for matching", () => {
  assert.deepEqual([...parseIp("::ffff:10.1.2.3")!], [10, 1, 2, 3]);
  assert.ok(inRange(parseIp("::ffff:10.1.2.3")!, parseIpRange("10.0.0.0/8")!));
  assert.ok(inRange(parseIp("10.1.2.3")!, parseIpRange("::ffff:10.0.0.0/104")!));
  assert.ok(!inRange(parseIp("11.1.2.3")!, parseIpRange("::ffff:10.0.0.0/104")!));
});

Deno.test("ip: CIDR ranges match on their prefix bits only", () => {
  const range = parseIpRange("192.168.16.0/20")!;
  assert.ok(inRange(parseIp("192.168.31.255")!, range));
  assert.ok(!inRange(parseIp("192.168.32.0")!, range));
  assert.ok(inRange(parseIp("203.0.113.9")!, parseIpRange("0.0.0.0/0")!));
  assert.ok(!inRange(parseIp("::1")!, parseIpRange("0.0.0.0/0")!), "families never mix");
  assert.ok(inRange(parseIp("2001:db8:1::5")!, parseIpRange("2001:db8::/32")!));
  assert.ok(!inRange(parseIp("2001:db9::5")!, parseIpRange("2001:db8::/32")!));
  assert.ok(inRange(parseIp("10.0.0.7")!, parseIpRange("10.0.0.7")!), "a bare address is /32");
  assert.ok(!inRange(parseIp("10.0.0.8")!, parseIpRange("10.0.0.7")!));
  assert.ok(inRange(parseIp("10.0.0.6")!, parseIpRange("10.0.0.7/31")!));
  for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "::/129", "10.0.0/8", "x/8"]) {
    assert.equal(parseIpRange(bad), null, bad);
  }
});
