/**
 * Latin-1 encoding of response heads: fetch `Headers` hold byte strings, so each character is
 * one byte. ASCII, the usual case, goes through the native UTF-8 encoder, which is identical
 * for it and much faster than a loop.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes `text` as latin-1 into `buf` at `offset`; returns the bytes written.
 * `buf` must have `text.length` bytes free.
 */
export function encodeLatin1Into(text: string, buf: Uint8Array, offset: number): number {
  // Bounded to the text's own length: UTF-8 of non-ASCII text is longer and must not spill
  // over bytes past it; the fallback below rewrites the range anyway.
  const { read, written } = encoder.encodeInto(text, buf.subarray(offset, offset + text.length));
  if (read === text.length && written === read) return written;
  const n = text.length;
  for (let i = 0; i < n; i++) buf[offset + i] = text.charCodeAt(i);
  return n;
}
