/**
 * Forwarding headers behind trusted proxies (`lib/http/forwarded.ts`): the trust list, RFC 7239
 * `Forwarded`, `X-Forwarded-For`/`-Proto`, and a client that lies in them (issue 16 item 6).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ForwardedClient,
  parseForwardedElement,
  resolveForwarded,
  TrustedProxies,
} from "../../lib/http/forwarded.ts";

function resolve(
  peer: string | null,
  headers: Record<string, string>,
  trust = "127.0.0.1, ::1, 10.0.0.0/8",
): ForwardedClient | null {
  const h = new Headers(headers);
  return resolveForwarded(peer, (name) => h.get(name), TrustedProxies.parse(trust));
}

Deno.test("forwarded trust: *, addresses, CIDRs of both families, IPv4-mapped peers and unix", () => {
  const trust = TrustedProxies.parse("192.0.2.1, 10.0.0.0/8,2001:db8::/32 , ::1");
  assert.ok(trust.trusts("192.0.2.1"));
  assert.ok(!trust.trusts("192.0.2.2"));
  assert.ok(trust.trusts("10.255.0.1"));
  assert.ok(trust.trusts("::ffff:10.1.1.1"), "a dual-stack socket's mapped peer is the IPv4 peer");
  assert.ok(trust.trusts("2001:db8:ffff::1"));
  assert.ok(trust.trusts("0:0:0:0:0:0:0:1"));
  assert.ok(!trust.trusts("2001:db9::1"));
  assert.ok(!trust.trusts(null), "UNIX-socket peers only with 'unix'");
  assert.ok(!trust.trusts("not an address"));
  assert.ok(TrustedProxies.parse("unix").trusts(null));
  assert.ok(!TrustedProxies.parse("unix").trusts("127.0.0.1"));
  const all = TrustedProxies.parse("*");
  assert.ok(all.trusts("203.0.113.9") && all.trusts("::") && all.trusts(null));
});

Deno.test("forwarded trust: a bad entry or an empty list is refused, naming the entry", () => {
  assert.throws(
    () => TrustedProxies.parse("10.0.0.0/8, 10.0.0.0/33"),
    /"10.0.0.0\/33" is not an IP address/,
  );
  assert.throws(
    () => TrustedProxies.parse("localhost"),
    /"localhost" is not an IP address, a CIDR range, "unix" or "\*"/,
  );
  assert.throws(() => TrustedProxies.parse(" , "), /an empty list trusts no proxy/);
});

Deno.test("forwarded: an untrusted peer's headers are ignored entirely", () => {
  const lies = {
    "x-forwarded-for": "1.2.3.4",
    "x-forwarded-proto": "https",
    forwarded: "for=1.2.3.4;proto=https",
  };
  assert.equal(resolve("203.0.113.5", lies), null);
  assert.equal(resolve(null, lies), null, "a UNIX peer is not trusted unless listed");
  assert.equal(resolve("127.0.0.1", {}), null, "a trusted peer without headers changes nothing");
});

Deno.test("forwarded: X-Forwarded-For is read from the right; the first untrusted entry is the client", () => {
  assert.deepEqual(resolve("127.0.0.1", { "x-forwarded-for": "203.0.113.7" }), {
    address: "203.0.113.7",
    port: 0,
    scheme: null,
  });
  // The client forged "6.6.6.6"; the proxies appended the real client and themselves.
  assert.equal(
    resolve("127.0.0.1", { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.3" })?.address,
    "203.0.113.7",
  );
  assert.equal(
    resolve("127.0.0.1", { "x-forwarded-for": "10.0.0.9, 10.0.0.3" })?.address,
    "10.0.0.9",
    "all trusted: the leftmost",
  );
  assert.equal(
    resolve("10.0.0.1", { "x-forwarded-for": "2001:DB8::7, [2001:db8::8]:443" })?.address,
    "2001:db8::8",
  );
  assert.deepEqual(resolve("10.0.0.1", { "x-forwarded-for": "203.0.113.7:5555" }), {
    address: "203.0.113.7",
    port: 5555,
    scheme: null,
  });
  assert.equal(
    resolve("10.0.0.1", { "x-forwarded-for": "::ffff:203.0.113.7" })?.address,
    "203.0.113.7",
  );
});

Deno.test("forwarded: garbage in X-Forwarded-For stops the walk; nothing left of it is believed", () => {
  assert.equal(
    resolve("10.0.0.1", { "x-forwarded-for": "203.0.113.7, evil.example" })?.address,
    null,
  );
  assert.equal(
    resolve("10.0.0.1", { "x-forwarded-for": "evil, 203.0.113.7" })?.address,
    "203.0.113.7",
  );
});

Deno.test("forwarded: X-Forwarded-Proto gives the scheme, aligned with the client's entry when it can be", () => {
  assert.equal(resolve("10.0.0.1", { "x-forwarded-proto": "https" })?.scheme, "https");
  assert.equal(resolve("10.0.0.1", { "x-forwarded-proto": "HTTPS" })?.scheme, "https");
  assert.equal(resolve("10.0.0.1", { "x-forwarded-proto": "wss" })?.scheme, "https");
  assert.equal(resolve("10.0.0.1", { "x-forwarded-proto": "gopher" })?.scheme, null);
  const aligned = {
    "x-forwarded-for": "203.0.113.7, 10.0.0.3",
    "x-forwarded-proto": "https, http",
  };
  assert.equal(resolve("10.0.0.1", aligned)?.scheme, "https");
  const overwritten = { "x-forwarded-for": "203.0.113.7, 10.0.0.3", "x-forwarded-proto": "https" };
  assert.equal(resolve("10.0.0.1", overwritten)?.scheme, "https");
});

Deno.test("forwarded: RFC 7239 elements, quoted strings, IPv6 with ports, obfuscated nodes", () => {
  assert.deepEqual(
    resolve("10.0.0.1", { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' }),
    {
      address: "2001:db8:cafe::17",
      port: 4711,
      scheme: "https",
    },
  );
  assert.deepEqual(
    resolve("10.0.0.1", { forwarded: "For=192.0.2.60;Proto=http;By=203.0.113.43" }),
    {
      address: "192.0.2.60",
      port: 0,
      scheme: "http",
    },
  );
  assert.deepEqual(resolve("10.0.0.1", { forwarded: "for=192.0.2.43, for=10.0.0.4;proto=https" }), {
    address: "192.0.2.43",
    port: 0,
    scheme: null,
  }, "the client's own element says no proto");
  assert.deepEqual(resolve("10.0.0.1", { forwarded: "for=unknown;proto=https" }), {
    address: null,
    port: 0,
    scheme: "https",
  });
  assert.equal(resolve("10.0.0.1", { forwarded: 'for="_hidden:_port"' })?.address, null);
  assert.equal(
    resolve("10.0.0.1", { forwarded: "for=192.0.2.43", "x-forwarded-for": "6.6.6.6" })?.address,
    "192.0.2.43",
    "Forwarded wins over X-Forwarded-For",
  );
});

Deno.test("forwarded: a malformed element stops the walk at that element", () => {
  // The client sent a broken Forwarded; the proxy appended a good element for it.
  assert.equal(
    resolve("10.0.0.1", { forwarded: 'for="unterminated, for=203.0.113.9' })?.address,
    null,
    "a quote opened by the client swallows the rest: nothing can be believed",
  );
  assert.equal(
    resolve("10.0.0.1", { forwarded: "for=a b, for=203.0.113.9" })?.address,
    "203.0.113.9",
  );
  assert.equal(
    resolve("10.0.0.1", { forwarded: "for=203.0.113.9:80" })?.address,
    null,
    "ports need quotes",
  );
  assert.equal(
    resolve("10.0.0.1", { forwarded: 'for="2001:db8::1"' })?.address,
    null,
    "IPv6 needs brackets",
  );
  assert.equal(
    resolve("10.0.0.1", { forwarded: 'for="[192.0.2.1]"' })?.address,
    null,
    "IPv4 must not have them",
  );
});

Deno.test("forwarded element grammar: pairs, case, duplicates, quoting", () => {
  assert.deepEqual(
    [...parseForwardedElement('for=a;PROTO=https; by="x\\"y"')!],
    [["for", "a"], ["proto", "https"], ["by", 'x"y']],
  );
  for (
    const bad of ["for", "for=", "=a", "for=a;for=b", 'for="a', "for=a;;b", "for=a b", "f r=a"]
  ) {
    assert.equal(parseForwardedElement(bad), null, bad);
  }
  assert.deepEqual([...parseForwardedElement("for=a;;proto=b")!], [["for", "a"], ["proto", "b"]]);
});

Deno.test("forwarded property: a client cannot choose its address when the proxies append", () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
  const junk = fc.string({ maxLength: 30 });
  fc.assert(
    fc.property(fc.array(fc.oneof(ip, junk), { maxLength: 5 }), ip, (forged, real) => {
      // Whatever the client put first, the trusted proxy 10.0.0.3 appended the real peer.
      fc.pre(!real.startsWith("10.") && real !== "127.0.0.1");
      const header = [...forged, real, "10.0.0.3"].join(", ");
      const client = resolve("10.0.0.1", { "x-forwarded-for": header });
      assert.equal(client?.address, real);
    }),
    { numRuns: 2000 },
  );
});
