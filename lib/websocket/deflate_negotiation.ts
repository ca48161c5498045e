/**
 * Accepting a `permessage-deflate` offer (RFC 7692 §7). Compression runs on
 * `CompressionStream("deflate-raw")`, whose window is always 15 bits, which decides what can be
 * accepted: a client asking the server for a smaller window is declined; any client window is
 * fine, since a 15-bit inflater reads streams made with smaller ones.
 *
 * @module
 */

import { parseExtensionHeader } from "./extension_header.ts";

/** The agreed parameters. */
export interface DeflateParams {
  /** The server resets its compressor after each message. */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compressor after each message, so our inflater can too. */
  readonly clientNoContextTakeover: boolean;
}

/** An accepted offer: what to run, and the `Sec-WebSocket-Extensions` value that says so. */
export interface DeflateAgreement {
  /** The parameters in force. */
  readonly params: DeflateParams;
  /** The response header value. */
  readonly header: string;
}

const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/**
 * Picks the first acceptable `permessage-deflate` offer from a request's
 * `Sec-WebSocket-Extensions`, or `null` to run without compression.
 *
 * @example
 * ```ts
 * import { negotiateDeflate } from "./deflate_negotiation.ts";
 * negotiateDeflate("permessage-deflate; client_max_window_bits")?.header;
 * // "permessage-deflate"
 * ```
 */
export function negotiateDeflate(header: string | null): DeflateAgreement | null {
  const offers = header === null ? [] : parseExtensionHeader(header) ?? [];
  for (const offer of offers) {
    if (offer.name !== "permessage-deflate") continue;
    const agreement = acceptOffer(offer.params);
    if (agreement) return agreement;
  }
  return null;
}

/** Accepts one offer, or declines it (unknown, repeated or invalid parameters; RFC 7692 §7.1). */
function acceptOffer(
  params: ReadonlyArray<readonly [string, string | true]>,
): DeflateAgreement | null {
  const seen = new Set<string>();
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverWindowBits = false;
  for (const [name, value] of params) {
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
        if (value !== true) return null;
        serverNoContextTakeover = true;
        break;
      case "client_no_context_takeover":
        if (value !== true) return null;
        clientNoContextTakeover = true;
        break;
      case "server_max_window_bits":
        // A smaller window is a valid request we cannot honour; anything else is invalid.
        if (value !== "15") return null;
        serverWindowBits = true;
        break;
      case "client_max_window_bits":
        if (value !== true && !WINDOW_BITS.test(value)) return null;
        break;
      default:
        return null;
    }
  }
  const header = [
    "permessage-deflate",
    serverNoContextTakeover ? "server_no_context_takeover" : "",
    clientNoContextTakeover ? "client_no_context_takeover" : "",
    // Accepting a server_max_window_bits offer means answering with it (RFC 7692 §7.1.2.1).
    serverWindowBits ? "server_max_window_bits=15" : "",
  ].filter(Boolean).join("; ");
  return { params: { serverNoContextTakeover, clientNoContextTakeover }, header };
}
