/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2), sans-IO: a load
 * balancer that forwards TCP connections sends it first, naming the client it accepted the
 * connection from.
 *
 * {@link parseProxyHeader} is incremental in a particular way: until the header is complete it
 * answers how many more bytes are needed *at least*, never more than the header can still hold.
 * A reader that reads exactly that many bytes at a time never reads past the header, so the
 * bytes after it stay in the socket for whoever reads next (the HTTP engine, or a TLS
 * handshake), with no buffer to hand over. Every malformed header is an error: a server behind
 * a proxy that sends this header must not serve a connection without a valid one.
 *
 * @module
 */

import { formatIp, parseIPv4, parseIPv6 } from "./ip_address.ts";

/** A header that is not a valid PROXY protocol header; the message says what is wrong. */
export class ProxyProtocolError extends Error {
  /** Always `ProxyProtocolError`. */
  override name = "ProxyProtocolError";
}

/** One end of the proxied connection. */
export interface ProxyAddress {
  /** `IPv4` or `IPv6`. */
  readonly family: "IPv4" | "IPv6";
  /** The address as text (canonical for IPv6, RFC 5952). */
  readonly hostname: string;
  /** The TCP port. */
  readonly port: number;
}

/** A complete, valid header. */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /**
   * `proxy` for a relayed connection; `local` for a v2 LOCAL header, which the proxy sends on
   * connections of its own (health checks): the connection's own addresses apply.
   */
  readonly command: "proxy" | "local";
  /**
   * The client, or null when the header does not say (v1 `UNKNOWN`, v2 LOCAL, v2 UNSPEC or
   * UNIX families): the connection's own peer address applies.
   */
  readonly source: ProxyAddress | null;
  /** The address the client connected to, or null as for `source`. */
  readonly destination: ProxyAddress | null;
  /** The header's length in bytes; the connection's own data starts after it. */
  readonly length: number;
}

/** What {@link parseProxyHeader} found: the header, or how many more bytes it needs at least. */
export type ProxyParse =
  | { readonly done: true; readonly header: ProxyHeader }
  | { readonly done: false; readonly need: number };

/** Limits for {@link parseProxyHeader}. */
export interface ProxyParseOptions {
  /** Largest v2 header accepted, in bytes, TLVs included (default 4096). */
  readonly maxV2Length?: number;
}

/** v1: `PROXY UNKNOWN\r\n` is the shortest header of either version. */
const SHORTEST = 15;
/** v1: the longest line, CRLF included (proxy-protocol.txt §2.1). */
const V1_MAX = 107;
const V2_FIXED = 16;
const DEFAULT_V2_MAX = 4096;
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const CR = 13;
const LF = 10;
const SP = 32;

/**
 * Parses the PROXY header at the start of `bytes`, which holds everything received so far.
 * Returns the header once complete, else the least number of bytes still needed (at least 1).
 *
 * @throws {ProxyProtocolError} As soon as the bytes cannot start a valid header.
 *
 * @example
 * ```ts
 * import { parseProxyHeader } from "./proxy_protocol.ts";
 * const line = new TextEncoder().encode("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET");
 * const parsed = parseProxyHeader(line);
 * if (parsed.done) console.log(parsed.header.source?.hostname, parsed.header.length); // 192.0.2.1 44
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array, options: ProxyParseOptions = {}): ProxyParse {
  const seen = Math.min(bytes.length, V2_SIGNATURE.length);
  if (seen > 0 && bytes[0] === V2_SIGNATURE[0]) {
    for (let i = 1; i < seen; i++) {
      if (bytes[i] !== V2_SIGNATURE[i]) {
        throw new ProxyProtocolError("not a PROXY protocol header (bad v2 signature)");
      }
    }
    if (bytes.length < V2_FIXED) return { done: false, need: V2_FIXED - bytes.length };
    return parseV2(bytes, options.maxV2Length ?? DEFAULT_V2_MAX);
  }
  const prefix = Math.min(bytes.length, V1_PREFIX.length);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== V1_PREFIX[i]) {
      throw new ProxyProtocolError(
        "not a PROXY protocol header (expected 'PROXY ' or the v2 signature)",
      );
    }
  }
  if (bytes.length < SHORTEST) return { done: false, need: SHORTEST - bytes.length };
  return parseV1(bytes);
}

// -------------------------------------------------------------------------------------------------
// Version 1: "PROXY" SP ("TCP4" | "TCP6" | "UNKNOWN") [SP src SP dst SP sport SP dport] CRLF

/** Shortest text of each field after the protocol: two addresses, two ports. */
const V1_MIN_FIELD = { TCP4: [7, 7, 1, 1], TCP6: [2, 2, 1, 1] } as const;

function parseV1(bytes: Uint8Array): ProxyParse {
  const limit = Math.min(bytes.length, V1_MAX);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const c = bytes[i];
    if (c === LF) {
      if (bytes[i - 1] !== CR) throw new ProxyProtocolError("PROXY v1 line ends in LF without CR");
      end = i + 1;
      break;
    }
    if (c === CR) {
      if (i + 1 < limit && bytes[i + 1] !== LF) {
        throw new ProxyProtocolError("PROXY v1 line has a CR not followed by LF");
      }
      continue;
    }
    // The line is US-ASCII text; any other byte (a NUL, a binary request) is refused at once.
    if (c < SP || c > 126) throw new ProxyProtocolError("PROXY v1 line has a non-printable byte");
  }
  // A CR received last waits for its LF.
  const pendingCr = end < 0 && bytes[limit - 1] === CR ? 1 : 0;
  const textEnd = end < 0 ? limit - pendingCr : end - 2;
  let text = "";
  for (let i = 0; i < textEnd; i++) text += String.fromCharCode(bytes[i]);
  const fields = text.split(" ");
  const protocol = fields[1];
  const known = protocol === "TCP4" || protocol === "TCP6";
  if (end < 0) {
    if (bytes.length >= V1_MAX) throw new ProxyProtocolError("PROXY v1 line longer than 107 bytes");
    checkV1Prefix(fields, known);
    return { done: false, need: pendingCr === 1 ? 1 : v1Need(fields, bytes.length, known) };
  }
  if (protocol === "UNKNOWN") {
    // §2.1: the receiver must ignore anything after UNKNOWN up to the CRLF.
    return { done: true, header: header(1, "proxy", null, null, end) };
  }
  if (!known) {
    throw new ProxyProtocolError(
      `PROXY v1 protocol ${JSON.stringify(protocol)} is not TCP4, TCP6 or UNKNOWN`,
    );
  }
  if (fields.length !== 6) {
    throw new ProxyProtocolError(
      `PROXY v1 ${protocol} line needs 4 fields after the protocol, not ${fields.length - 2}`,
    );
  }
  const family = protocol === "TCP4" ? "IPv4" : "IPv6";
  const source = v1Address(family, fields[2], fields[4], "source");
  const destination = v1Address(family, fields[3], fields[5], "destination");
  return { done: true, header: header(1, "proxy", source, destination, end) };
}

const V1_PROTOCOLS = ["TCP4", "TCP6", "UNKNOWN"];

/** Refuses an incomplete line as soon as its protocol cannot be one of the three. */
function checkV1Prefix(fields: string[], known: boolean): void {
  if (known) {
    if (fields.length > 6) {
      throw new ProxyProtocolError(
        `PROXY v1 ${fields[1]} line has more than 4 fields after the protocol`,
      );
    }
    return;
  }
  const typed = fields[1];
  const possible = fields.length === 2
    ? V1_PROTOCOLS.some((protocol) => protocol.startsWith(typed))
    : typed === "UNKNOWN";
  if (!possible) {
    throw new ProxyProtocolError(
      `PROXY v1 protocol ${JSON.stringify(typed)} is not TCP4, TCP6 or UNKNOWN`,
    );
  }
}

/**
 * The fewest bytes that can still complete the line: for a TCP line, each field not yet
 * finished at its shortest (or as long as it already is), then CRLF. Never more than the
 * shortest completion, so a reader asking for this many cannot read past the header.
 */
function v1Need(fields: string[], received: number, known: boolean): number {
  if (!known) return 2;
  const minimums = V1_MIN_FIELD[fields[1] as "TCP4" | "TCP6"];
  let total = "PROXY ".length + fields[1].length;
  for (let f = 0; f < 4; f++) {
    const typed = fields[f + 2];
    total += 1 + Math.max(typed?.length ?? 0, minimums[f]);
  }
  return Math.max(1, total + 2 - received);
}

function v1Address(
  family: "IPv4" | "IPv6",
  address: string,
  port: string,
  which: string,
): ProxyAddress {
  const bytes = family === "IPv4" ? parseIPv4(address) : parseIPv6(address);
  if (bytes === null) {
    throw new ProxyProtocolError(
      `PROXY v1 ${which} address ${JSON.stringify(address)} is not valid ${family}`,
    );
  }
  if (!/^(0|[1-9][0-9]{0,4})$/.test(port) || Number(port) > 65535) {
    throw new ProxyProtocolError(`PROXY v1 ${which} port ${JSON.stringify(port)} is not 0-65535`);
  }
  return { family, hostname: formatIp(bytes), port: Number(port) };
}

// -------------------------------------------------------------------------------------------------
// Version 2: signature, version/command, family/transport, length, addresses, TLVs

const ADDRESS_LENGTH: Record<number, number> = { 1: 12, 2: 36, 3: 216 };

function parseV2(bytes: Uint8Array, maxLength: number): ProxyParse {
  const versionCommand = bytes[12];
  if (versionCommand >> 4 !== 2) {
    throw new ProxyProtocolError(`PROXY v2 version ${versionCommand >> 4} is not 2`);
  }
  const command = versionCommand & 0x0f;
  if (command > 1) {
    throw new ProxyProtocolError(`PROXY v2 command ${command} is not LOCAL or PROXY`);
  }
  const length = V2_FIXED + ((bytes[14] << 8) | bytes[15]);
  if (length > maxLength) {
    throw new ProxyProtocolError(
      `PROXY v2 header of ${length} bytes is over the ${maxLength}-byte limit`,
    );
  }
  if (bytes.length < length) return { done: false, need: length - bytes.length };

  // §2.2: with LOCAL, the receiver must accept the header and use the real connection
  // endpoints, whatever the family says; the address block is skipped.
  if (command === 0) return { done: true, header: header(2, "local", null, null, length) };

  const family = bytes[13] >> 4;
  const transport = bytes[13] & 0x0f;
  if (family > 3) throw new ProxyProtocolError(`PROXY v2 address family ${family} is unknown`);
  if (transport > 2) throw new ProxyProtocolError(`PROXY v2 transport ${transport} is unknown`);

  const addressLength = ADDRESS_LENGTH[family] ?? 0;
  if (V2_FIXED + addressLength > length) {
    throw new ProxyProtocolError(
      `PROXY v2 header too short for its addresses (${length - V2_FIXED} < ${addressLength} bytes)`,
    );
  }
  checkTlvs(bytes, V2_FIXED + addressLength, length);
  if (family === 0 || family === 3) {
    // UNSPEC: the proxy does not know; UNIX: no address a TCP peer could have. Both mean the
    // connection's own endpoints apply.
    return { done: true, header: header(2, "proxy", null, null, length) };
  }
  if (transport !== 1) {
    throw new ProxyProtocolError(
      `PROXY v2 ${transport === 2 ? "DGRAM" : "UNSPEC"} transport on a stream connection`,
    );
  }
  const at = V2_FIXED;
  const size = family === 1 ? 4 : 16;
  const name = family === 1 ? "IPv4" : "IPv6";
  const ports = at + 2 * size;
  const source: ProxyAddress = {
    family: name,
    hostname: formatIp(bytes.slice(at, at + size)),
    port: (bytes[ports] << 8) | bytes[ports + 1],
  };
  const destination: ProxyAddress = {
    family: name,
    hostname: formatIp(bytes.slice(at + size, at + 2 * size)),
    port: (bytes[ports + 2] << 8) | bytes[ports + 3],
  };
  return { done: true, header: header(2, "proxy", source, destination, length) };
}

/** TLVs (§2.2.7) are skipped, but each must fit the header exactly. */
function checkTlvs(bytes: Uint8Array, from: number, end: number): void {
  let at = from;
  while (at < end) {
    if (end - at < 3) {
      throw new ProxyProtocolError("PROXY v2 TLV truncated (fewer than 3 bytes left)");
    }
    const length = (bytes[at + 1] << 8) | bytes[at + 2];
    at += 3 + length;
    if (at > end) {
      throw new ProxyProtocolError(
        `PROXY v2 TLV of type 0x${bytes[at - 3 - length].toString(16)} overruns the header`,
      );
    }
  }
}

function header(
  version: 1 | 2,
  command: "proxy" | "local",
  source: ProxyAddress | null,
  destination: ProxyAddress | null,
  length: number,
): ProxyHeader {
  return { version, command, source, destination, length };
}
