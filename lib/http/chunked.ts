/**
 * An incremental decoder of the chunked transfer coding (RFC 9112 §7.1): fed bytes as they
 * arrive, it hands out the data slices and reports where the body ends, so the bytes after it
 * stay with the next pipelined request. Chunk extensions and trailer fields are checked and
 * bounded, then dropped: a fetch `Request` has no place for them.
 *
 * @module
 */

import { ProtocolError } from "./error.ts";
import { FIELD_VALUE, TOKEN } from "./field.ts";

const CR = 13;
const LF = 10;

const SIZE_FIRST = 0;
const SIZE = 1;
const EXTENSION = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_NAME = 8;
const TRAILER_VALUE = 9;
const TRAILER_LF = 10;
const FINAL_LF = 11;
const DONE = 12;

/** Longest chunk-size line with its extensions, in bytes. */
const MAX_SIZE_LINE = 4096;
/** Largest trailer section, in bytes, and most trailer fields. */
const MAX_TRAILER_BYTES = 64 * 1024;
const MAX_TRAILER_FIELDS = 100;
/** Largest single chunk accepted (2^52), so sizes stay exact in a double. */
const MAX_CHUNK = 2 ** 52;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/**
 * Decodes one chunked body.
 *
 * @example
 * ```ts
 * import { ChunkedDecoder } from "./chunked.ts";
 * const bytes = new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\nGET /next");
 * const out: Uint8Array[] = [];
 * const decoder = new ChunkedDecoder(0);
 * const used = decoder.feed(bytes, 0, bytes.length, out); // 15: "GET /next" is not body
 * ```
 */
export class ChunkedDecoder {
  #state = SIZE_FIRST;
  #size = 0;
  #line = 0;
  #trailerBytes = 0;
  #trailerFields = 0;
  #total = 0;
  readonly #maxBody: number;

  /** `maxBody` bounds the decoded body in bytes (413 beyond); 0 means unbounded. */
  constructor(maxBody: number) {
    this.#maxBody = maxBody;
  }

  /** The final chunk and trailers have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Decoded body bytes so far. */
  get received(): number {
    return this.#total;
  }

  /**
   * Consumes `buf[start, end)`, appending body slices (views into `buf`) to `out`.
   * Returns the index where decoding stopped: `end`, or just past the body once it is done.
   */
  feed(buf: Uint8Array, start: number, end: number, out: Uint8Array[]): number | ProtocolError {
    let p = start;
    while (p < end) {
      const c = buf[p];
      switch (this.#state) {
        case SIZE_FIRST: {
          const d = HEX[c];
          if (d < 0) return new ProtocolError(400, "invalid chunk size");
          this.#size = d;
          this.#line = 1;
          this.#state = SIZE;
          p++;
          break;
        }
        case SIZE: {
          const d = HEX[c];
          if (d >= 0) {
            this.#size = this.#size * 16 + d;
            if (this.#size > MAX_CHUNK) return new ProtocolError(400, "chunk size too large");
            p++;
          } else if (c === CR) {
            this.#state = SIZE_LF;
            p++;
          } else if (c === 59 || c === 32 || c === 9) {
            this.#state = EXTENSION;
          } else {
            return new ProtocolError(400, "invalid chunk size");
          }
          if (++this.#line > MAX_SIZE_LINE) {
            return new ProtocolError(400, "chunk size line too long");
          }
          break;
        }
        case EXTENSION:
          if (c === CR) {
            this.#state = SIZE_LF;
          } else if (FIELD_VALUE[c] !== 1) {
            return new ProtocolError(400, "invalid chunk extension");
          }
          if (++this.#line > MAX_SIZE_LINE) {
            return new ProtocolError(400, "chunk extension too long");
          }
          p++;
          break;
        case SIZE_LF:
          if (c !== LF) return new ProtocolError(400, "bare CR in chunk size line");
          p++;
          if (this.#size === 0) {
            this.#state = TRAILER_START;
          } else {
            this.#total += this.#size;
            if (this.#maxBody > 0 && this.#total > this.#maxBody) {
              return new ProtocolError(413, "request body too large");
            }
            this.#state = DATA;
          }
          break;
        case DATA: {
          const n = Math.min(this.#size, end - p);
          out.push(buf.subarray(p, p + n));
          p += n;
          this.#size -= n;
          if (this.#size === 0) this.#state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== CR) return new ProtocolError(400, "chunk data longer than its size");
          this.#state = DATA_LF;
          p++;
          break;
        case DATA_LF:
          if (c !== LF) return new ProtocolError(400, "bare CR after chunk data");
          this.#state = SIZE_FIRST;
          p++;
          break;
        case TRAILER_START:
          if (c === CR) {
            this.#state = FINAL_LF;
            p++;
            break;
          }
          if (TOKEN[c] !== 1) return new ProtocolError(400, "invalid trailer field");
          if (++this.#trailerFields > MAX_TRAILER_FIELDS) {
            return new ProtocolError(431, "too many trailer fields");
          }
          this.#state = TRAILER_NAME;
          break;
        case TRAILER_NAME:
          if (c === 58) this.#state = TRAILER_VALUE;
          else if (TOKEN[c] !== 1) return new ProtocolError(400, "invalid trailer field name");
          p++;
          if (++this.#trailerBytes > MAX_TRAILER_BYTES) {
            return new ProtocolError(431, "trailer section too large");
          }
          break;
        case TRAILER_VALUE:
          if (c === CR) this.#state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) {
            return new ProtocolError(400, "invalid trailer field value");
          }
          p++;
          if (++this.#trailerBytes > MAX_TRAILER_BYTES) {
            return new ProtocolError(431, "trailer section too large");
          }
          break;
        case TRAILER_LF:
          if (c !== LF) return new ProtocolError(400, "bare CR in trailer section");
          this.#state = TRAILER_START;
          p++;
          break;
        case FINAL_LF:
          if (c !== LF) return new ProtocolError(400, "bare CR after last chunk");
          this.#state = DONE;
          return p + 1;
        default:
          return p;
      }
    }
    return p;
  }
}
