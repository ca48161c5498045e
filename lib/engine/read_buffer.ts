/**
 * A connection's read buffer: one array reused for every read, the unread bytes
 * `bytes[start, end)`, and the last byte always kept free for the head parser's stop byte.
 *
 * @module
 */

/** Read buffer of a new connection: a request head is rarely larger; it grows when one is. */
const INITIAL_BUFFER = 2 * 1024;
/** The least room a read is given. */
const MIN_READ = 1024;
/** A read buffer grown past this is dropped when its connection goes idle. */
const KEPT_BUFFER = 16 * 1024;

/**
 * The bytes read from a connection and not yet taken.
 *
 * @example
 * ```ts
 * import { ReadBuffer } from "./read_buffer.ts";
 * const reads = new ReadBuffer();
 * reads.ensureSpace();
 * const view = reads.view();
 * view.set(new TextEncoder().encode("GET"));
 * reads.end += 3;
 * reads.buffered; // 3
 * ```
 */
export class ReadBuffer {
  /** The buffer; the unread bytes are `bytes[start, end)`. */
  bytes: Uint8Array = new Uint8Array(INITIAL_BUFFER);
  /** Where the unread bytes start. */
  start = 0;
  /** Where the unread bytes end (and the next read goes). */
  end = 0;
  /** Where a scan for the end of a partly received head resumes; -1 before the first try. */
  scanFrom: number = -1;
  /** `bytes` but its stop byte, the view most reads fill (kept: a view is an allocation). */
  #whole: Uint8Array | null = null;

  /** Bytes read and not yet taken. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Makes room for a read of at least MIN_READ bytes at `end`, keeping the last byte of the
   * buffer free for the parser's stop byte.
   */
  ensureSpace(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
      return;
    }
    if (this.bytes.length - this.end > MIN_READ) return;
    const used = this.end - this.start;
    if (this.start > 0 && this.bytes.length - used > MIN_READ) {
      this.bytes.copyWithin(0, this.start, this.end);
    } else {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, used + MIN_READ + 1));
      bigger.set(this.bytes.subarray(this.start, this.end));
      this.bytes = bigger;
      this.#whole = null;
    }
    if (this.scanFrom >= 0) this.scanFrom -= this.start;
    this.start = 0;
    this.end = used;
  }

  /** Where the next read goes: the buffer's free space, less the parser's stop byte. */
  view(): Uint8Array {
    if (this.end === 0) return this.#whole ??= this.bytes.subarray(0, this.bytes.length - 1);
    return this.bytes.subarray(this.end, this.bytes.length - 1);
  }

  /** An idle connection gives back a buffer a large head made it grow. */
  shrinkIfEmpty(): void {
    if (this.bytes.length > KEPT_BUFFER && this.start === this.end) {
      this.bytes = new Uint8Array(INITIAL_BUFFER);
      this.#whole = null;
      this.start = this.end = 0;
    }
  }

  /** Takes every unread byte (a copy), leaving the buffer empty. */
  takeAll(): Uint8Array {
    const rest = this.bytes.slice(this.start, this.end);
    this.start = this.end = 0;
    return rest;
  }
}
