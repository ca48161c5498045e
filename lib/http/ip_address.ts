/**
 * IP addresses as text and bytes: strict parsing of IPv4 and IPv6 (RFC 4291 §2.2), the
 * canonical IPv6 text (RFC 5952), and address ranges in CIDR notation (RFC 4632 §3.1). Shared by
 * the PROXY protocol parser and the forwarded-header trust rules, which both take addresses from
 * untrusted bytes.
 *
 * @module
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/**
 * Parses dotted-decimal IPv4 (`192.0.2.1`): exactly four decimal parts of 0–255, no leading
 * zeros (`010` is octal to some parsers and decimal to others), nothing else.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./ip_address.ts";
 * parseIPv4("192.0.2.1"); // Uint8Array [192, 0, 2, 1]
 * parseIPv4("192.0.2.01"); // null
 * ```
 */
export function parseIPv4(text: string): IpBytes | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 4) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return null;
      value = value * 10 + c - 48;
      if (value > 255) return null;
      digits++;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2): eight groups of up to four hex digits, one `::` standing for
 * one or more zero groups, an optional dotted IPv4 tail. Zone identifiers (`%eth0`) are refused:
 * they mean nothing off the host that wrote them.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "./ip_address.ts";
 * parseIPv6("2001:db8::1")?.length; // 16
 * parseIPv6("2001:db8:::1"); // null
 * ```
 */
export function parseIPv6(text: string): IpBytes | null {
  if (text.length < 2 || text.length > 45) return null;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (text.startsWith("::")) {
    gap = 0;
    i = 2;
    if (i === text.length) return new Uint8Array(16);
  } else if (text.charCodeAt(0) === 58) {
    return null;
  }
  for (;;) {
    // One group, or a dotted IPv4 tail.
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < text.length) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < text.length && text.charCodeAt(i) === 46) {
      const v4 = parseIPv4(text.slice(start));
      if (v4 === null || groups.length > 6) return null;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      break;
    }
    if (digits === 0 || digits > 4) return null;
    groups.push(value);
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    if (i < text.length && text.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = groups.length;
      i++;
      if (i === text.length) break;
    } else if (i === text.length) {
      return null;
    }
    if (groups.length > 8) return null;
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return null;
  const out = new Uint8Array(16);
  const tail = gap < 0 ? 0 : groups.length - gap;
  for (let g = 0; g < groups.length; g++) {
    const at = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
    out[at * 2] = groups[g] >> 8;
    out[at * 2 + 1] = groups[g] & 0xff;
  }
  return out;
}

/** Whether `bytes` (16) is an IPv4-mapped IPv6 address, `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2). */
export function isIPv4Mapped(bytes: IpBytes): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Writes 4 bytes as dotted decimal and 16 as canonical IPv6 (RFC 5952 §4: lower case, no
 * leading zeros, the longest run of two or more zero groups as `::`, the first on a tie; an
 * IPv4-mapped address with its IPv4 tail, §5).
 *
 * @example
 * ```ts
 * import { formatIp, parseIPv6 } from "./ip_address.ts";
 * formatIp(parseIPv6("2001:0db8:0:0:0:0:0:0001")!); // "2001:db8::1"
 * ```
 */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (isIPv4Mapped(bytes)) return "::ffff:" + formatIp(bytes.subarray(12));
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push((bytes[g * 2] << 8) | bytes[g * 2 + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let g = 0; g < 8;) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let end = g;
    while (end < 8 && groups[end] === 0) end++;
    if (end - g > bestLength) {
      bestStart = g;
      bestLength = end - g;
    }
    g = end;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return hex(0, bestStart) + "::" + hex(bestStart + bestLength, 8);
}

/**
 * Parses an IPv4 or IPv6 address; an IPv4-mapped IPv6 address becomes its IPv4 address, so
 * that `::ffff:192.0.2.1` and `192.0.2.1` (the same peer seen by a dual-stack socket or not)
 * compare equal.
 *
 * @example
 * ```ts
 * import { parseIp } from "./ip_address.ts";
 * parseIp("::ffff:192.0.2.1")?.length; // 4
 * ```
 */
export function parseIp(text: string): IpBytes | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return v4;
  const v6 = parseIPv6(text);
  if (v6 === null) return null;
  return isIPv4Mapped(v6) ? v6.slice(12) : v6;
}

/** An address range: `prefix` leading bits of `bytes`. */
export interface IpRange {
  /** The network address (4 or 16 bytes). */
  readonly bytes: IpBytes;
  /** Leading bits that must match. */
  readonly prefix: number;
}

/**
 * Parses `address` or `address/prefix` (CIDR). An IPv4-mapped IPv6 range (`::ffff:0:0/96` and
 * longer) becomes the IPv4 range it covers. Bits after the prefix are ignored, as most tools do.
 *
 * @example
 * ```ts
 * import { parseIpRange } from "./ip_address.ts";
 * parseIpRange("10.0.0.0/8"); // { bytes: Uint8Array [10, 0, 0, 0], prefix: 8 }
 * parseIpRange("10.0.0.0/33"); // null
 * ```
 */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  let bytes = parseIPv4(addressText) ?? parseIPv6(addressText);
  if (bytes === null) return null;
  let prefix = bytes.length * 8;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(bits)) return null;
    prefix = Number(bits);
    if (prefix > bytes.length * 8) return null;
  }
  if (bytes.length === 16 && isIPv4Mapped(bytes) && prefix >= 96) {
    bytes = bytes.slice(12);
    prefix -= 96;
  }
  return { bytes, prefix };
}

/**
 * Whether `address` lies in `range` (both as parsed here; an IPv4 address never lies in an
 * IPv6 range other than through the mapped form, which parsing already reduced).
 *
 * @example
 * ```ts
 * import { inRange, parseIp, parseIpRange } from "./ip_address.ts";
 * inRange(parseIp("10.1.2.3")!, parseIpRange("10.0.0.0/8")!); // true
 * ```
 */
export function inRange(address: IpBytes, range: IpRange): boolean {
  if (address.length !== range.bytes.length) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}
