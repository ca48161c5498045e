/**
 * The chunked transfer coding (RFC 9112 §7.1). Its decoder is incremental: fed bytes as they
 * arrive, it decodes them in place (the data moves to the front of what it was fed, over the
 * framing) and reports where the body ends, so the bytes after it stay with the next pipelined
 * request. Decoding thus costs no allocation per chunk: a body of a million one-byte chunks
 * costs its million bytes, not a million arrays. Chunk extensions and trailer fields are checked
 * and bounded, then dropped: a fetch `Request` has no place for them. The framing is bounded
 * too, relative to the data it frames, so a body cannot be made mostly of framing. Its encoder
 * side writes chunk size lines and the framing bytes into the caller's buffer.
 *
 * @module
 */

import { ProtocolError } from "./error.ts";
import { FIELD_VALUE, TOKEN } from "./syntax.ts";

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const SEMICOLON = 59;
const EQUALS = 61;
const DQUOTE = 34;
const BACKSLASH = 92;

const SIZE_FIRST = 0;
const SIZE = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER_NAME = 7;
const TRAILER_VALUE = 8;
const TRAILER_LF = 9;
const FINAL_LF = 10;
const DONE = 11;
// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1)
/** Before a `;` or the CR that ends the line. */
const EXT_SEPARATOR = 12;
/** After `;`, before the extension name. */
const EXT_NAME_START = 13;
const EXT_NAME = 14;
/** After the name and whitespace: `=`, `;` or CR. */
const EXT_AFTER_NAME = 15;
/** After `=`, before the value. */
const EXT_VALUE_START = 16;
const EXT_TOKEN_VALUE = 17;
const EXT_QUOTED = 18;
const EXT_QUOTED_PAIR = 19;

/** Longest chunk-size line with its extensions, in bytes. */
const MAX_SIZE_LINE = 4096;
/** Largest trailer section, in bytes, and most trailer fields. */
const MAX_TRAILER_BYTES = 64 * 1024;
const MAX_TRAILER_FIELDS = 100;
/** Largest single chunk accepted (2^52), so sizes stay exact in a double. */
const MAX_CHUNK = 2 ** 52;
/**
 * Framing (size lines, extensions, CRLFs) a body may carry beyond {@link FRAMING_PER_BYTE} per
 * data byte. One-byte chunks cost 5 bytes of framing each and pass; chunks made mostly of
 * extensions are refused once this allowance is spent.
 */
export const FRAMING_ALLOWANCE = 64 * 1024;
/** Framing bytes allowed per data byte, beyond {@link FRAMING_ALLOWANCE}. */
export const FRAMING_PER_BYTE = 8;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** 1 where a byte may appear unescaped inside a quoted-string (qdtext, RFC 9110 §5.6.4). */
const QDTEXT = new Uint8Array(256);
QDTEXT[HT] = 1;
for (let c = 0x20; c <= 0xff; c++) {
  QDTEXT[c] = c === 0x7f || c === DQUOTE || c === BACKSLASH ? 0 : 1;
}

/**
 * Decodes one chunked body.
 *
 * @example
 * ```ts
 * import { ChunkedDecoder } from "./chunked.ts";
 * const bytes = new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\nGET /next");
 * const decoder = new ChunkedDecoder(Infinity);
 * const used = decoder.feed(bytes, 0, bytes.length); // 15: "GET /next" is not body
 * new TextDecoder().decode(bytes.subarray(0, decoder.dataEnd)); // "hello"
 * ```
 */
export class ChunkedDecoder {
  #state = SIZE_FIRST;
  #size = 0;
  #line = 0;
  #trailerBytes = 0;
  #trailerFields = 0;
  #total = 0;
  #framing = 0;
  #dataEnd = 0;
  readonly #maxBody: number;

  /** `maxBody` bounds the decoded body in bytes (413 beyond); `Infinity` for no bound. */
  constructor(maxBody: number) {
    this.#maxBody = maxBody;
  }

  /** After {@link feed}: the data it decoded is `buf[start, dataEnd)`. */
  get dataEnd(): number {
    return this.#dataEnd;
  }

  /** The final chunk and trailers have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Decoded body bytes so far. */
  get received(): number {
    return this.#total;
  }

  /** Advances the chunk-extension grammar by one byte; false when the byte is not allowed. */
  #extension(c: number): boolean {
    switch (this.#state) {
      case EXT_TOKEN_VALUE:
        if (TOKEN[c] === 1) return true;
        this.#state = EXT_SEPARATOR;
        return this.#extension(c);
      case EXT_SEPARATOR:
        if (c === SP || c === HT) return true;
        if (c === SEMICOLON) this.#state = EXT_NAME_START;
        else if (c === CR) this.#state = SIZE_LF;
        else return false;
        return true;
      case EXT_NAME_START:
        if (c === SP || c === HT) return true;
        if (TOKEN[c] !== 1) return false;
        this.#state = EXT_NAME;
        return true;
      case EXT_NAME:
        if (TOKEN[c] === 1) return true;
        if (c === SP || c === HT) this.#state = EXT_AFTER_NAME;
        else if (c === EQUALS) this.#state = EXT_VALUE_START;
        else if (c === SEMICOLON) this.#state = EXT_NAME_START;
        else if (c === CR) this.#state = SIZE_LF;
        else return false;
        return true;
      case EXT_AFTER_NAME:
        if (c === SP || c === HT) return true;
        if (c === EQUALS) this.#state = EXT_VALUE_START;
        else if (c === SEMICOLON) this.#state = EXT_NAME_START;
        else if (c === CR) this.#state = SIZE_LF;
        else return false;
        return true;
      case EXT_VALUE_START:
        if (c === SP || c === HT) return true;
        if (c === DQUOTE) this.#state = EXT_QUOTED;
        else if (TOKEN[c] === 1) this.#state = EXT_TOKEN_VALUE;
        else return false;
        return true;
      case EXT_QUOTED:
        if (c === DQUOTE) this.#state = EXT_SEPARATOR;
        else if (c === BACKSLASH) this.#state = EXT_QUOTED_PAIR;
        else if (QDTEXT[c] !== 1) return false;
        return true;
      case EXT_QUOTED_PAIR:
        if (c !== HT && (c < 0x20 || c === 0x7f)) return false;
        this.#state = EXT_QUOTED;
        return true;
    }
    return false;
  }

  /**
   * Consumes `buf[start, end)`, moving the body data found there to `buf[start, dataEnd)` (it
   * overwrites the framing it came with, so it must be taken before the buffer is reused).
   * Returns the index where decoding stopped: `end`, or just past the body once it is done.
   */
  feed(buf: Uint8Array, start: number, end: number): number | ProtocolError {
    let p = start;
    let w = start;
    this.#dataEnd = start;
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
          } else if (c === SEMICOLON || c === SP || c === HT) {
            this.#state = EXT_SEPARATOR;
          } else {
            return new ProtocolError(400, "invalid chunk size");
          }
          if (++this.#line > MAX_SIZE_LINE) {
            return new ProtocolError(400, "chunk size line too long");
          }
          break;
        }
        case EXT_SEPARATOR:
        case EXT_NAME_START:
        case EXT_NAME:
        case EXT_AFTER_NAME:
        case EXT_VALUE_START:
        case EXT_TOKEN_VALUE:
        case EXT_QUOTED:
        case EXT_QUOTED_PAIR:
          if (!this.#extension(c)) return new ProtocolError(400, "invalid chunk extension");
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
            if (this.#total > this.#maxBody) {
              return new ProtocolError(413, "request body too large");
            }
            // The size line and the CRLF that will end its data.
            this.#framing += this.#line + 3;
            if (this.#framing > FRAMING_ALLOWANCE + FRAMING_PER_BYTE * this.#total) {
              return new ProtocolError(400, "chunk framing out of proportion to the data");
            }
            this.#state = DATA;
          }
          break;
        case DATA: {
          const n = Math.min(this.#size, end - p);
          if (w !== p) buf.copyWithin(w, p, p + n);
          w += n;
          this.#dataEnd = w;
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

/** The last chunk and the empty trailer section that end a chunked body. */
export const LAST_CHUNK: Uint8Array = new Uint8Array([48, CR, LF, CR, LF]);

/** The CRLF that ends each chunk's data. */
export const CHUNK_DATA_END: Uint8Array = new Uint8Array([CR, LF]);

/** The most bytes {@link writeChunkSize} writes: 14 hex digits (any safe integer) and CRLF. */
export const MAX_CHUNK_SIZE_LINE = 16;

/**
 * Writes the size line of a chunk of `size` bytes (hex digits, CRLF) into `out` at `offset`;
 * returns the index after it. `out` must have {@link MAX_CHUNK_SIZE_LINE} bytes free there.
 */
export function writeChunkSize(out: Uint8Array, offset: number, size: number): number {
  let digits = 1;
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 16)) digits++;
  let rest = size;
  for (let i = offset + digits - 1; i >= offset; i--) {
    const d = rest % 16;
    out[i] = d < 10 ? 48 + d : 87 + d;
    rest = Math.floor(rest / 16);
  }
  out[offset + digits] = CR;
  out[offset + digits + 1] = LF;
  return offset + digits + 2;
}
