/**
 * Bytes gathered in one growing array: decoded request body data waiting for the app. However
 * the data came (a million one-byte chunks, say), it costs its own size, at most twice over
 * while the array grows, never an object per piece.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
const FIRST_SIZE = 16 * 1024;

/**
 * A first-in first-out queue of bytes.
 *
 * @example
 * ```ts
 * import { ByteQueue } from "./byte_queue.ts";
 * const queue = new ByteQueue();
 * queue.append(new Uint8Array([1, 2, 3]), 0, 3);
 * queue.take(null); // Uint8Array [1, 2, 3]
 * ```
 */
export class ByteQueue {
  #bytes: Uint8Array<ArrayBuffer> = EMPTY;
  #start = 0;
  #end = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends a copy of `source[start, end)`. */
  append(source: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.#end + n > this.#bytes.length) {
      const queued = this.#end - this.#start;
      if (queued + n <= this.#bytes.length / 2) {
        this.#bytes.copyWithin(0, this.#start, this.#end);
      } else {
        const bigger = new Uint8Array(Math.max(FIRST_SIZE, 2 * (queued + n)));
        bigger.set(this.#bytes.subarray(this.#start, this.#end));
        this.#bytes = bigger;
      }
      this.#start = 0;
      this.#end = queued;
    }
    this.#bytes.set(source.subarray(start, end), this.#end);
    this.#end += n;
  }

  /**
   * Takes bytes from the front: with `into`, as many as fit, copied into it (a view of it is
   * returned); without, all of them, in a new array of their size.
   */
  take(into: Uint8Array | null): Uint8Array {
    const start = this.#start;
    if (into === null) {
      const all = this.#bytes.slice(start, this.#end);
      this.#start = this.#end = 0;
      return all;
    }
    const n = Math.min(into.length, this.#end - start);
    into.set(this.#bytes.subarray(start, start + n));
    this.#start = start + n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return into.subarray(0, n);
  }

  /** Takes everything, without a copy when it starts at the front; the queue lets go of it. */
  takeAll(): Uint8Array<ArrayBuffer> {
    const all = this.#start === 0
      ? this.#bytes.subarray(0, this.#end)
      : this.#bytes.slice(this.#start, this.#end);
    this.#bytes = EMPTY;
    this.#start = this.#end = 0;
    return all;
  }
}
