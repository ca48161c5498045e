/**
 * The preamble a relay writes first on each loopback connection to the workers (sans-IO): who
 * sent it, which public listener the client used, and — for TCP clients behind a TLS front — the
 * client's and the listener's real addresses, so `info.remoteAddr` and the access log name the
 * client, not the relay.
 *
 * Layout: `token (32) | route (1) | remote | local`, each address being
 * `length (1) | hostname (ASCII) | port (2, big-endian)`; a length of 0 (no hostname, no port)
 * stands for a UNIX client. Only the relay, which holds the token, writes a preamble, and it
 * writes it before any byte of the client's: a client cannot send one of its own.
 *
 * @module
 */

/** Bytes of the token on the wire. */
export const RELAY_TOKEN_BYTES = 32;

/** Longest hostname an address may carry (an IPv6 address with a zone fits). */
const MAX_HOST = 63;

/** The longest preamble: token, route, and two addresses of the longest hostname. */
export const MAX_PREAMBLE_BYTES = RELAY_TOKEN_BYTES + 1 + 2 * (1 + MAX_HOST + 2);

/** Characters of a numeric IPv4 or IPv6 address (with a `%zone`): nothing else is accepted. */
const HOST_CHARS = /^[0-9A-Za-z.:%_-]+$/;

/** What a verified preamble says. */
export interface Preamble {
  /** Index of the public listener the client connected to. */
  route: number;
  /** The client's address; `undefined` for a UNIX client. */
  remote: Deno.NetAddr | undefined;
  /** The public listener's address as the client reached it; `undefined` for a UNIX socket. */
  local: Deno.NetAddr | undefined;
  /** Bytes the preamble took: the client's own bytes start here. */
  length: number;
}

/**
 * Writes a preamble for a client of public listener `route`.
 *
 * @throws {RangeError} for a route above 255 or an address that does not fit.
 * @example
 * ```ts
 * import { encodePreamble, RELAY_TOKEN_BYTES } from "./relay_preamble.ts";
 * const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
 * const remote = { transport: "tcp", hostname: "192.0.2.7", port: 50123 } as const;
 * const local = { transport: "tcp", hostname: "127.0.0.1", port: 443 } as const;
 * encodePreamble(token, 0, remote, local).length; // 32 + 1 + 12 + 12
 * ```
 */
export function encodePreamble(
  token: Uint8Array,
  route: number,
  remote?: Deno.NetAddr,
  local?: Deno.NetAddr,
): Uint8Array {
  if (!(route >= 0 && route <= 255)) throw new RangeError(`relay route ${route} is not a byte`);
  const parts = [remote, local].map(encodeAddress);
  const out = new Uint8Array(RELAY_TOKEN_BYTES + 1 + parts[0].length + parts[1].length);
  out.set(token.subarray(0, RELAY_TOKEN_BYTES));
  out[RELAY_TOKEN_BYTES] = route;
  out.set(parts[0], RELAY_TOKEN_BYTES + 1);
  out.set(parts[1], RELAY_TOKEN_BYTES + 1 + parts[0].length);
  return out;
}

function encodeAddress(addr: Deno.NetAddr | undefined): Uint8Array {
  if (addr === undefined) return new Uint8Array(1);
  const host = addr.hostname;
  if (host.length === 0 || host.length > MAX_HOST || !HOST_CHARS.test(host)) {
    throw new RangeError(`relay: cannot carry the address ${JSON.stringify(host)}`);
  }
  const out = new Uint8Array(1 + host.length + 2);
  out[0] = host.length;
  for (let i = 0; i < host.length; i++) out[1 + i] = host.charCodeAt(i);
  out[1 + host.length] = addr.port >> 8;
  out[2 + host.length] = addr.port & 0xff;
  return out;
}

/**
 * Reads a preamble from the start of `bytes`: `null` while more bytes are needed, `undefined`
 * when it is not one (wrong token, a route that does not exist, a malformed address), else
 * what it says. The token is compared in constant time.
 *
 * @example
 * ```ts
 * import { decodePreamble, encodePreamble, RELAY_TOKEN_BYTES } from "./relay_preamble.ts";
 * const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
 * const bytes = encodePreamble(token, 1);
 * decodePreamble(bytes.subarray(0, 10), token, 2); // null: incomplete
 * decodePreamble(bytes, token, 2); // { route: 1, remote: undefined, local: undefined, length: 35 }
 * decodePreamble(bytes, token, 1); // undefined: no route 1
 * ```
 */
export function decodePreamble(
  bytes: Uint8Array,
  token: Uint8Array,
  routes: number,
): Preamble | null | undefined {
  // Never judged on part of the token: closing at the first wrong byte would let a stranger
  // find the token a byte at a time.
  if (bytes.length <= RELAY_TOKEN_BYTES) return null;
  let difference = 0;
  for (let i = 0; i < RELAY_TOKEN_BYTES; i++) difference |= bytes[i] ^ token[i];
  if (difference !== 0) return undefined;
  const route = bytes[RELAY_TOKEN_BYTES];
  if (route >= routes) return undefined;
  let at = RELAY_TOKEN_BYTES + 1;
  const addresses: (Deno.NetAddr | undefined)[] = [];
  for (let i = 0; i < 2; i++) {
    if (bytes.length <= at) return null;
    const length = bytes[at];
    if (length === 0) {
      addresses.push(undefined);
      at += 1;
      continue;
    }
    if (length > MAX_HOST) return undefined;
    if (bytes.length < at + 1 + length + 2) return null;
    let hostname = "";
    for (let j = 0; j < length; j++) hostname += String.fromCharCode(bytes[at + 1 + j]);
    if (!HOST_CHARS.test(hostname)) return undefined;
    const port = bytes[at + 1 + length] << 8 | bytes[at + 2 + length];
    addresses.push({ transport: "tcp", hostname, port });
    at += 1 + length + 2;
  }
  // Both or neither: a TCP client has a listener address too.
  if ((addresses[0] === undefined) !== (addresses[1] === undefined)) return undefined;
  return { route, remote: addresses[0], local: addresses[1], length: at };
}

/**
 * Bytes → hex, for a token in a listener spec.
 *
 * @example
 * ```ts
 * import { toHex } from "./relay_preamble.ts";
 * toHex(new Uint8Array([0, 255])); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hex → bytes.
 *
 * @example
 * ```ts
 * import { fromHex } from "./relay_preamble.ts";
 * fromHex("00ff"); // Uint8Array [0, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
