/**
 * The client behind a reverse proxy, from the headers the proxy adds: `Forwarded` (RFC 7239),
 * or `X-Forwarded-For` and `X-Forwarded-Proto`. Pure functions; the engine asks
 * {@link resolveForwarded} once per request, only when `--forwarded-allow-ips` is set.
 *
 * Any client can send these headers, so they are believed only from trusted peers, and only as
 * far as the chain of trusted proxies goes: the list is read from the right (the entry the
 * nearest proxy appended) and the first address that is not a trusted proxy is the client.
 * Entries further left were written by that client and may be anything.
 *
 * @module
 */

import { formatIp, inRange, type IpRange, parseIp, parseIpRange } from "./ip_address.ts";

/**
 * The peers whose forwarding headers are believed (`--forwarded-allow-ips`, gunicorn's name):
 * every peer (`*`), addresses and CIDR ranges of either family, and `unix` for peers on a UNIX
 * socket (a proxy on the same host).
 *
 * @example
 * ```ts
 * import { TrustedProxies } from "./forwarded.ts";
 * const trusted = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, ::1, unix");
 * trusted.trusts("10.1.2.3"); // true
 * trusted.trusts(null); // true: a UNIX-socket peer
 * ```
 */
export class TrustedProxies {
  /** Every peer is trusted (`*`). */
  readonly all: boolean;
  /** Peers on a UNIX socket are trusted (`unix`). */
  readonly unix: boolean;
  /** Trusted addresses and ranges. */
  readonly ranges: readonly IpRange[];

  private constructor(all: boolean, unix: boolean, ranges: IpRange[]) {
    this.all = all;
    this.unix = unix;
    this.ranges = ranges;
  }

  /**
   * Parses a comma-separated list of `*`, `unix`, IP addresses and CIDR ranges (IPv4-mapped
   * IPv6 forms match the IPv4 peer).
   *
   * @throws {TypeError} Naming the first entry that is none of these, or for an empty list.
   */
  static parse(spec: string): TrustedProxies {
    const entries = spec.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
    if (entries.length === 0) {
      throw new TypeError(
        `an empty list trusts no proxy: give "*", addresses, CIDR ranges or "unix"`,
      );
    }
    let all = false;
    let unix = false;
    const ranges: IpRange[] = [];
    for (const entry of entries) {
      if (entry === "*") all = true;
      else if (entry.toLowerCase() === "unix") unix = true;
      else {
        const range = parseIpRange(entry);
        if (range === null) {
          throw new TypeError(
            `${JSON.stringify(entry)} is not an IP address, a CIDR range, "unix" or "*"`,
          );
        }
        ranges.push(range);
      }
    }
    return new TrustedProxies(all, unix || all, ranges);
  }

  /** Whether `address` (text; null for a UNIX-socket peer) is a trusted proxy. */
  trusts(address: string | null): boolean {
    if (this.all) return true;
    if (address === null) return this.unix;
    const bytes = parseIp(address);
    if (bytes === null) return false;
    for (const range of this.ranges) if (inRange(bytes, range)) return true;
    return false;
  }
}

/** Who the client is, as the trusted proxies say. */
export interface ForwardedClient {
  /**
   * The client's address (canonical text), or null when the entry that names the client is
   * not an address (RFC 7239 `unknown`, an obfuscated name, or garbage): the server keeps the
   * peer's address.
   */
  readonly address: string | null;
  /** The client's port, or 0 when not given. */
  readonly port: number;
  /** The scheme the client used (`http` or `https`), or null when not said. */
  readonly scheme: "http" | "https" | null;
}

/** One `for=` (or X-Forwarded-For) entry: an address, or null for a non-address node. */
interface Node {
  readonly address: string | null;
  readonly port: number;
}

/** Reads a request header (all field lines of that name joined with `, `), or null. */
export type HeaderLookup = (name: string) => string | null;

/**
 * The client as the proxies say, or null when `peer` is not trusted or sent no forwarding
 * header (the connection's own address and scheme apply). `peer` is the connection's peer
 * address, null for a UNIX socket. A `Forwarded` header wins over `X-Forwarded-*`.
 *
 * @example
 * ```ts
 * import { resolveForwarded, TrustedProxies } from "./forwarded.ts";
 * const headers = new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.2", "x-forwarded-proto": "https" });
 * resolveForwarded("10.0.0.1", (name) => headers.get(name), TrustedProxies.parse("10.0.0.0/8"));
 * // { address: "203.0.113.7", port: 0, scheme: "https" }
 * ```
 */
export function resolveForwarded(
  peer: string | null,
  header: HeaderLookup,
  trust: TrustedProxies,
): ForwardedClient | null {
  if (!trust.trusts(peer)) return null;
  const forwarded = header("forwarded");
  if (forwarded !== null) return fromForwarded(forwarded, trust);
  const forwardedFor = header("x-forwarded-for");
  const proto = header("x-forwarded-proto");
  if (forwardedFor === null && proto === null) return null;
  const protos = proto === null ? [] : splitList(proto);
  if (forwardedFor === null) {
    return { address: null, port: 0, scheme: schemeOf(protos[protos.length - 1]) };
  }
  const nodes = splitList(forwardedFor).map(parseLooseNode);
  const at = clientIndex(nodes, trust);
  if (at < 0 && protos.length === 0) return null;
  const node = nodes[at];
  // A proxy that appends to both lists keeps them aligned; one that overwrites the proto (as
  // nginx's `proxy_set_header X-Forwarded-Proto $scheme` does) leaves one value, its own.
  const scheme = protos.length === nodes.length ? protos[at] : protos[protos.length - 1];
  return { address: node?.address ?? null, port: node?.port ?? 0, scheme: schemeOf(scheme) };
}

/** The client per `Forwarded`: the `for` of the first element from the right not trusted. */
function fromForwarded(value: string, trust: TrustedProxies): ForwardedClient | null {
  const elements = splitElements(value).map(parseForwardedElement);
  const nodes = elements.map((element) => {
    if (element === null) return null;
    const node = element.get("for");
    return node === undefined ? null : parseNode(node);
  });
  const at = clientIndex(nodes, trust);
  if (at < 0) return null;
  const element = elements[at];
  const node = nodes[at];
  return {
    address: node?.address ?? null,
    port: node?.port ?? 0,
    scheme: schemeOf(element?.get("proto")),
  };
}

/**
 * Where the client is in `nodes`: walking from the right, the first entry that is not a
 * trusted proxy (an unparseable one included: nothing left of it can be believed); the
 * leftmost when every one is trusted; -1 for an empty list.
 */
function clientIndex(nodes: (Node | null)[], trust: TrustedProxies): number {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node === null || node.address === null || !trust.trusts(node.address)) return i;
  }
  return nodes.length === 0 ? -1 : 0;
}

function schemeOf(value: string | undefined): "http" | "https" | null {
  switch (value?.trim().toLowerCase()) {
    case "http":
    case "ws":
      return "http";
    case "https":
    case "wss":
      return "https";
    default:
      return null;
  }
}

function splitList(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

// -------------------------------------------------------------------------------------------------
// RFC 7239 syntax

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits a `Forwarded` value into its elements at commas outside quoted strings. */
function splitElements(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((element) => element.trim()).filter((element) => element !== "");
}

/**
 * Parses one forwarded-element (RFC 7239 §4): `pair *( ";" pair )`, `pair = token "=" ( token
 * / quoted-string )`, names case-insensitive, each at most once. Null when malformed.
 *
 * @example
 * ```ts
 * import { parseForwardedElement } from "./forwarded.ts";
 * parseForwardedElement('for="[2001:db8::1]:4711";proto=https')?.get("for"); // "[2001:db8::1]:4711"
 * ```
 */
export function parseForwardedElement(element: string): Map<string, string> | null {
  const pairs = new Map<string, string>();
  let i = 0;
  const n = element.length;
  while (i < n) {
    while (i < n && (element[i] === " " || element[i] === "\t")) i++;
    if (i < n && element[i] === ";") {
      i++;
      continue;
    }
    if (i >= n) break;
    const eq = element.indexOf("=", i);
    if (eq < 0) return null;
    const name = element.slice(i, eq).toLowerCase();
    if (!TOKEN.test(name) || pairs.has(name)) return null;
    i = eq + 1;
    let value = "";
    if (element[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = element[i++];
        if (c === '"') break;
        if (c === "\\") {
          if (i >= n) return null;
          value += element[i++];
        } else {
          value += c;
        }
      }
    } else {
      const end = element.indexOf(";", i);
      value = element.slice(i, end < 0 ? n : end).trimEnd();
      if (!TOKEN.test(value)) return null;
      i += value.length;
    }
    pairs.set(name, value);
    while (i < n && (element[i] === " " || element[i] === "\t")) i++;
    if (i < n && element[i] !== ";") return null;
  }
  return pairs.size === 0 ? null : pairs;
}

/**
 * Parses a node (RFC 7239 §6): an IPv4 address, a bracketed IPv6 address, `unknown` or an
 * obfuscated name (`_hidden`), with an optional port. Non-address nodes give a null address.
 * Null when malformed.
 */
function parseNode(text: string): Node | null {
  let name = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return null;
    name = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      portText = rest.slice(1);
    }
    if (!name.includes(":")) return null;
  } else {
    const colon = text.indexOf(":");
    if (colon >= 0) {
      name = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  let port = 0;
  if (portText !== undefined) {
    if (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
    else if (!/^_[A-Za-z0-9._-]+$/.test(portText)) return null;
  }
  if (name.toLowerCase() === "unknown" || /^_[A-Za-z0-9._-]+$/.test(name)) {
    return { address: null, port };
  }
  const bytes = parseIp(name);
  // An IPv6 node must be bracketed (§6); an IPv4 one must not be.
  if (bytes === null || text.startsWith("[") !== name.includes(":")) return null;
  return { address: formatIp(bytes), port };
}

/**
 * An X-Forwarded-For entry: what proxies write there in practice — a bare address of either
 * family, an IPv4 address with a port, or a bracketed IPv6 address with or without one.
 */
function parseLooseNode(text: string): Node | null {
  const bare = parseIp(text);
  if (bare !== null) return { address: formatIp(bare), port: 0 };
  const node = parseNode(text);
  return node?.address == null ? null : node;
}

/**
 * The client of a request whose head is `head`, arriving from `peer`, as `trust`ed proxies
 * name it: the address the app and the access log see, and the scheme of `request.url`. Null
 * when the peer is not trusted or says nothing (the connection's own apply). Every field line
 * of a header counts, joined as one list (RFC 9110 §5.3).
 *
 * @example
 * ```ts ignore
 * const client = forwardedClient(head, conn.remoteAddr, TrustedProxies.parse("10.0.0.0/8"));
 * client?.remote.hostname; // "203.0.113.7"
 * ```
 */
export function forwardedClient(
  head: { readonly names: readonly string[]; readonly values: readonly string[] },
  peer: Deno.NetAddr | Deno.UnixAddr,
  trust: TrustedProxies,
): { remote: Deno.NetAddr | Deno.UnixAddr; scheme: string } | null {
  const lookup = (name: string): string | null => {
    let joined: string | null = null;
    for (let i = 0; i < head.names.length; i++) {
      if (head.names[i] === name) {
        joined = joined === null ? head.values[i] : `${joined}, ${head.values[i]}`;
      }
    }
    return joined;
  };
  const peerAddress = peer.transport === "unix" ? null : (peer as Deno.NetAddr).hostname;
  const client = resolveForwarded(peerAddress, lookup, trust);
  if (client === null) return null;
  const remote: Deno.NetAddr | Deno.UnixAddr = client.address === null
    ? peer
    : { transport: "tcp", hostname: client.address, port: client.port };
  return { remote, scheme: client.scheme ?? "" };
}
