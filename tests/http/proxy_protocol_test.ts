/**
 * The PROXY protocol parser (`lib/http/proxy_protocol.ts`), byte by byte: v1 and v2 headers as
 * HAProxy writes them, every malformed case refused, and the reading discipline (ask for `need`
 * bytes at a time) never taking a byte past the header.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseProxyHeader,
  type ProxyHeader,
  ProxyProtocolError,
} from "../../lib/http/proxy_protocol.ts";
import { formatIp } from "../../lib/http/ip_address.ts";

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A v2 header: version/command byte, family/transport byte, then the body after the length. */
function v2(
  versionCommand: number,
  familyTransport: number,
  body: number[] | Uint8Array,
): Uint8Array {
  return concat(
    SIGNATURE,
    [versionCommand, familyTransport, body.length >> 8, body.length & 0xff],
    body,
  );
}

function ipv4Body(src: number[], dst: number[], sport: number, dport: number): number[] {
  return [...src, ...dst, sport >> 8, sport & 0xff, dport >> 8, dport & 0xff];
}

function parsed(bytes: Uint8Array): ProxyHeader {
  const result = parseProxyHeader(bytes);
  assert.ok(result.done, `incomplete, needs ${!result.done && result.need}`);
  return result.header;
}

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseProxyHeader(bytes), (error) => {
    assert.ok(error instanceof ProxyProtocolError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

/**
 * Reads `stream` the way the listener does: `need` bytes at a time. Returns the header and how
 * many bytes were taken, or the error.
 */
function readLikeTheListener(stream: Uint8Array): { header: ProxyHeader; taken: number } | Error {
  let taken = 0;
  for (;;) {
    let result;
    try {
      result = parseProxyHeader(stream.subarray(0, taken));
    } catch (error) {
      return error as Error;
    }
    if (result.done) return { header: result.header, taken };
    assert.ok(result.need >= 1, "always asks for at least one byte");
    if (taken + result.need > stream.length) return new Error("stream ended");
    taken += result.need;
  }
}

Deno.test("proxy v1: a TCP4 line gives the client and the address it connected to", () => {
  const header = parsed(ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n"));
  assert.deepEqual(header, {
    version: 1,
    command: "proxy",
    source: { family: "IPv4", hostname: "192.0.2.1", port: 56324 },
    destination: { family: "IPv4", hostname: "198.51.100.2", port: 443 },
    length: 45,
  });
});

Deno.test("proxy v1: a TCP6 line gives canonical IPv6 text", () => {
  const header = parsed(ascii("PROXY TCP6 2001:DB8:0:0::1 ::1 65535 0\r\n"));
  assert.deepEqual(header.source, { family: "IPv6", hostname: "2001:db8::1", port: 65535 });
  assert.deepEqual(header.destination, { family: "IPv6", hostname: "::1", port: 0 });
});

Deno.test("proxy v1: UNKNOWN keeps the connection's own addresses and ignores the rest of the line", () => {
  assert.deepEqual(parsed(ascii("PROXY UNKNOWN\r\n")), {
    version: 1,
    command: "proxy",
    source: null,
    destination: null,
    length: 15,
  });
  assert.equal(parsed(ascii("PROXY UNKNOWN whatever 1 2 3\r\nX")).length, 30);
});

Deno.test("proxy v1: every malformed line is refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", /not a PROXY protocol header/],
    ["proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n", /not a PROXY protocol header/],
    ["PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", /protocol "TCP5"/],
    ["PROXY XYZ\r\n0123456", /protocol "XYZ"/],
    ["PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n", /protocol ""/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", /needs 4 fields/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", /needs 4 fields after the protocol, not 5/],
    ["PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", /needs 4 fields after the protocol, not 5/],
    ["PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n", /source address "1.2.3.256" is not valid IPv4/],
    ["PROXY TCP4 ::1 1.2.3.4 1 2\r\n", /source address "::1" is not valid IPv4/],
    ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", /source address "1.2.3.4" is not valid IPv6/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", /source port "65536"/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", /source port "01"/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 -2\r\n", /destination port "-2"/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", /LF without CR/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX", /CR not followed by LF/],
    ["PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n", /non-printable/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 2\0\r\n", /non-printable/],
    ["PROXY UNKNOWN " + "x".repeat(100), /longer than 107 bytes/],
  ];
  for (const [text, pattern] of cases) refused(ascii(text), pattern);
});

Deno.test("proxy v1: the longest line (107 bytes, the spec's worst case) is accepted, one byte more is refused", () => {
  const longest =
    "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  assert.equal(longest.length, 107);
  assert.equal(parsed(ascii(longest)).length, 107);
  refused(ascii("PROXY UNKNOWN " + "x".repeat(92) + "\r\n"), /longer than 107 bytes/);
});

Deno.test("proxy v1: garbage is refused as soon as it cannot be a header, not after 107 bytes", () => {
  refused(ascii("G"), /not a PROXY protocol header/);
  refused(ascii("PROXY HTTP/1.1 "), /protocol "HTTP\/1.1"/);
  refused(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3"), /more than 4 fields/);
  assert.deepEqual(parseProxyHeader(ascii("PROXY TCP4 1.2.3")), { done: false, need: 16 });
});

Deno.test("proxy v2: a PROXY TCP over IPv4 header gives the addresses and skips TLVs", () => {
  const tlvs = [0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00]; // ALPN "h2", NOOP empty
  const bytes = concat(
    v2(0x21, 0x11, [...ipv4Body([10, 0, 0, 1], [10, 0, 0, 2], 51000, 8443), ...tlvs]),
    ascii("GET"),
  );
  assert.deepEqual(parsed(bytes), {
    version: 2,
    command: "proxy",
    source: { family: "IPv4", hostname: "10.0.0.1", port: 51000 },
    destination: { family: "IPv4", hostname: "10.0.0.2", port: 8443 },
    length: 16 + 12 + tlvs.length,
  });
});

Deno.test("proxy v2: IPv6 addresses come out canonical", () => {
  const src = new Uint8Array(16);
  src.set([0x20, 0x01, 0x0d, 0xb8], 0);
  src[15] = 1;
  const dst = new Uint8Array(16);
  dst.set([0xff, 0xff, 192, 0, 2, 7], 10);
  const header = parsed(v2(0x21, 0x21, [...src, ...dst, 0x01, 0xbb, 0x00, 0x50]));
  assert.deepEqual(header.source, { family: "IPv6", hostname: "2001:db8::1", port: 443 });
  assert.deepEqual(header.destination, { family: "IPv6", hostname: "::ffff:192.0.2.7", port: 80 });
});

Deno.test("proxy v2: LOCAL (a health check) is accepted whatever its family, with no addresses", () => {
  for (const familyTransport of [0x00, 0x11, 0xff]) {
    const header = parsed(v2(0x20, familyTransport, [1, 2, 3]));
    assert.deepEqual(header, {
      version: 2,
      command: "local",
      source: null,
      destination: null,
      length: 19,
    });
  }
});

Deno.test("proxy v2: UNSPEC and UNIX families keep the connection's own addresses", () => {
  assert.equal(parsed(v2(0x21, 0x00, [])).source, null);
  const unix = new Array(216).fill(0);
  unix[0] = 0x2f;
  assert.deepEqual(parsed(v2(0x21, 0x31, unix)), {
    version: 2,
    command: "proxy",
    source: null,
    destination: null,
    length: 16 + 216,
  });
});

Deno.test("proxy v2: every malformed header is refused with the reason", () => {
  const inet = ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
  const cases: [Uint8Array, RegExp][] = [
    [concat(SIGNATURE.slice(0, 11), [0x0b]), /bad v2 signature/],
    [v2(0x11, 0x11, inet), /version 1 is not 2/],
    [v2(0x31, 0x11, inet), /version 3 is not 2/],
    [v2(0x22, 0x11, inet), /command 2 is not LOCAL or PROXY/],
    [v2(0x21, 0x41, inet), /address family 4 is unknown/],
    [v2(0x21, 0x13, inet), /transport 3 is unknown/],
    [v2(0x21, 0x12, inet), /DGRAM transport on a stream connection/],
    [v2(0x21, 0x10, inet), /UNSPEC transport on a stream connection/],
    [v2(0x21, 0x11, inet.slice(0, 11)), /too short for its addresses \(11 < 12 bytes\)/],
    [v2(0x21, 0x21, inet), /too short for its addresses \(12 < 36 bytes\)/],
    [v2(0x21, 0x11, [...inet, 0x01, 0x00]), /TLV truncated/],
    [v2(0x21, 0x11, [...inet, 0x01, 0x00, 0x05, 1, 2]), /TLV of type 0x1 overruns/],
  ];
  for (const [bytes, pattern] of cases) refused(bytes, pattern);
});

Deno.test("proxy v2: a header over the size limit is refused from its fixed part alone", () => {
  const fixed = concat(SIGNATURE, [0x21, 0x11, 0xff, 0xff]);
  refused(fixed, /65551 bytes is over the 4096-byte limit/);
  const result = parseProxyHeader(fixed, { maxV2Length: 65551 });
  assert.deepEqual(result, { done: false, need: 65535 });
});

Deno.test("proxy: nothing yet, or a prefix of a valid header, asks for more without error", () => {
  assert.deepEqual(parseProxyHeader(new Uint8Array(0)), { done: false, need: 15 });
  assert.deepEqual(parseProxyHeader(ascii("PROX")), { done: false, need: 11 });
  assert.deepEqual(parseProxyHeader(new Uint8Array(SIGNATURE.slice(0, 5))), {
    done: false,
    need: 11,
  });
  assert.deepEqual(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r")), {
    done: false,
    need: 1,
  });
});

// -------------------------------------------------------------------------------------------------
// Properties

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  b.fill(0, 4, 10); // zero runs, so "::" appears
  return b;
});
const port = fc.integer({ min: 0, max: 65535 });

/** A valid header of either version, with the addresses it must yield. */
const validHeader = fc.oneof(
  fc.tuple(fc.boolean(), ipv4, ipv4, ipv6, ipv6, port, port).map(
    ([six, s4, d4, s6, d6, sp, dp]) => {
      const [src, dst] = six ? [formatIp(s6), formatIp(d6)] : [formatIp(s4), formatIp(d4)];
      return {
        bytes: ascii(`PROXY ${six ? "TCP6" : "TCP4"} ${src} ${dst} ${sp} ${dp}\r\n`),
        sourcePort: sp,
        destinationPort: dp,
      };
    },
  ),
  fc.tuple(fc.boolean(), ipv4, ipv4, ipv6, ipv6, port, port, fc.uint8Array({ maxLength: 40 })).map(
    ([six, s4, d4, s6, d6, sp, dp, tlvValue]) => {
      const addresses = six ? [...s6, ...d6] : [...s4, ...d4];
      const tlv = [0xe0, tlvValue.length >> 8, tlvValue.length & 0xff, ...tlvValue];
      return {
        bytes: v2(0x21, six ? 0x21 : 0x11, [
          ...addresses,
          sp >> 8,
          sp & 0xff,
          dp >> 8,
          dp & 0xff,
          ...tlv,
        ]),
        sourcePort: sp,
        destinationPort: dp,
      };
    },
  ),
);

Deno.test("proxy property: reading `need` bytes at a time stops exactly at the end of the header", () => {
  fc.assert(
    fc.property(
      validHeader,
      fc.uint8Array({ maxLength: 64 }),
      ({ bytes, sourcePort, destinationPort }, after) => {
        const result = readLikeTheListener(concat(bytes, after));
        assert.ok(!(result instanceof Error), String(result));
        assert.equal(result.taken, bytes.length, "no byte after the header was taken");
        assert.equal(result.header.length, bytes.length);
        assert.equal(result.header.source?.port, sourcePort);
        assert.equal(result.header.destination?.port, destinationPort);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("proxy property: every proper prefix of a valid header asks for more, never fails", () => {
  fc.assert(
    fc.property(validHeader, fc.nat(), ({ bytes }, cut) => {
      const prefix = bytes.subarray(0, cut % bytes.length);
      const result = parseProxyHeader(prefix);
      assert.ok(!result.done);
      assert.ok(result.need >= 1 && prefix.length + result.need <= bytes.length);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("proxy property: any corruption is either still a valid header or a ProxyProtocolError", () => {
  fc.assert(
    fc.property(validHeader, fc.nat(), fc.integer({ min: 0, max: 255 }), ({ bytes }, at, value) => {
      const corrupt = bytes.slice();
      corrupt[at % corrupt.length] = value;
      const result = readLikeTheListener(corrupt);
      if (result instanceof Error) {
        assert.ok(
          result instanceof ProxyProtocolError || result.message === "stream ended",
          `unexpected ${result}`,
        );
      } else {
        assert.ok(result.taken <= corrupt.length);
      }
    }),
    { numRuns: 5000 },
  );
});
