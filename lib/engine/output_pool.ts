/**
 * Output buffers shared by a worker's connections: a connection borrows one while it has
 * something to write and gives it back once written, so idle connections hold none and busy
 * ones allocate none.
 *
 * Sizes are powers of two from 16 KiB to 1 MiB; each size keeps at most 4 MiB of spare buffers.
 *
 * @module
 */

const SMALLEST = 16 * 1024;
const CLASSES = 7;
const SPARE_BYTES = 4 * 1024 * 1024;
const pools: Uint8Array[][] = Array.from({ length: CLASSES }, () => []);

/** The size class of a buffer of `size` bytes, or -1 when it is not a pooled size. */
function classOf(size: number): number {
  for (let k = 0, s = SMALLEST; k < CLASSES; k++, s *= 2) {
    if (s === size) return k;
  }
  return -1;
}

/** A buffer of at least `size` bytes (exactly `size` when it is larger than any pooled size). */
export function borrowBuffer(size: number): Uint8Array {
  if (size <= SMALLEST) return pools[0].pop() ?? new Uint8Array(SMALLEST);
  let k = 0;
  let s = SMALLEST;
  while (s < size && k < CLASSES) {
    k++;
    s *= 2;
  }
  if (k === CLASSES) return new Uint8Array(size);
  return pools[k].pop() ?? new Uint8Array(s);
}

/** Takes a buffer back once nothing refers to its contents. */
export function returnBuffer(buffer: Uint8Array): void {
  if (buffer.length === 0) return;
  const k = classOf(buffer.length);
  if (k === -1) return;
  const pool = pools[k];
  if ((pool.length + 1) * buffer.length <= SPARE_BYTES) pool.push(buffer);
}
