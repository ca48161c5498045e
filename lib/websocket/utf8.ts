/**
 * Strict UTF-8 decoding: WebSocket text must be valid UTF-8 (RFC 6455 §8.1), so malformed input
 * is an error, not a string with replacement characters.
 *
 * @module
 */

// ignoreBOM keeps a leading U+FEFF: it is message content, not an encoding marker.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes` as UTF-8, or returns `undefined` when they are not valid UTF-8.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // "hi"
 * decodeUtf8(new Uint8Array([0xff])); // undefined
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
