/**
 * Joining byte chunks: deflate output, batched frames, request bodies that came in pieces.
 *
 * @module
 */

/** `parts` joined into one array of `size` bytes; a single part is returned as it is. */
export function concat(parts: Uint8Array<ArrayBuffer>[], size: number): Uint8Array<ArrayBuffer> {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
