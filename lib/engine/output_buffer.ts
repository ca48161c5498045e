/**
 * A connection's pending output: the bytes gathered for its next write, with anything too
 * large to copy (and any buffer filled before it) queued ahead of them, in order. Its buffers
 * are borrowed from the output pool only while something is pending, so an idle connection
 * holds none.
 *
 * @module
 */

import { writeLatin1 } from "../http/latin1.ts";
import { borrowBuffer, returnBuffer } from "./output_pool.ts";

/** Bodies this large are written as they are rather than copied into the buffer. */
export const DIRECT_WRITE = 256 * 1024;

const EMPTY = new Uint8Array(0);

/** Output waiting to be written. */
export class OutputBuffer {
  /** The buffer being filled: `bytes[0, length)` is pending, after everything `queued`. */
  bytes: Uint8Array = EMPTY;
  /** How much of `bytes` is pending. */
  length = 0;
  /** Output to write before `bytes`: buffers filled earlier and bodies too large to copy. */
  readonly queued: Uint8Array[] = [];
  /** Pool buffers `queued` refers to, given back once written. */
  readonly #lent: Uint8Array[] = [];

  /** Whether anything is waiting to be written. */
  get pending(): boolean {
    return this.length > 0 || this.queued.length > 0;
  }

  /** Makes room for `n` more bytes in `bytes`. */
  reserve(n: number): void {
    const needed = this.length + n;
    if (needed <= this.bytes.length) return;
    const bigger = borrowBuffer(needed);
    if (this.length > 0) bigger.set(this.bytes.subarray(0, this.length));
    returnBuffer(this.bytes);
    this.bytes = bigger;
  }

  /** Appends `text`, one byte per character (a head's byte string). */
  append(text: string): void {
    this.reserve(text.length);
    this.length = writeLatin1(this.bytes, this.length, text);
  }

  /**
   * Appends `data`: copied, or when it is {@link DIRECT_WRITE} bytes or more, queued to be
   * written as it is (so the caller must not change it until it is written).
   */
  appendBytes(data: Uint8Array): void {
    if (data.length >= DIRECT_WRITE) {
      if (this.length > 0) {
        this.queued.push(this.bytes.subarray(0, this.length));
        this.#lent.push(this.bytes);
        this.bytes = EMPTY;
        this.length = 0;
      }
      this.queued.push(data);
      return;
    }
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Everything pending was written (or never will be): the buffers go back to the pool. */
  release(): void {
    this.length = 0;
    if (this.queued.length > 0) {
      this.queued.length = 0;
      for (const buffer of this.#lent) returnBuffer(buffer);
      this.#lent.length = 0;
    }
    returnBuffer(this.bytes);
    this.bytes = EMPTY;
  }
}
