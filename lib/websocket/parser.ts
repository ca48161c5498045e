/**
 * The incremental frame parser: feed it bytes as they arrive, take frames out. Sans-IO; it only
 * checks what a single frame can tell (RFC 6455 §5.2), message-level rules live in the assembler.
 *
 * @module
 */

import { CloseCode, ProtocolViolation } from "./close.ts";
import { applyMask, type Frame, isControl, Opcode } from "./frame.ts";

/** Limits and permissions for {@link FrameParser}. */
export interface FrameParserOptions {
  /** Largest payload accepted in one frame; a larger declared length yields 1009 at once. */
  readonly maxPayload: number;
  /** Whether RSV1 may be set on the first frame of a data message (permessage-deflate). */
  readonly allowRsv1: boolean;
}

const KNOWN_OPCODES: ReadonlySet<number> = new Set(Object.values(Opcode));

/**
 * Frames up to this size get their payload buffer as soon as the header is read, so each later
 * read is copied once, straight into it. Larger ones wait in chunks: a header alone must not make
 * the server allocate up to `maxPayload`.
 */
const DIRECT_PAYLOAD_BYTES = 1024 * 1024;

/** A frame whose header is parsed and whose payload is still arriving. */
interface PartialFrame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: Opcode;
  readonly payload: Uint8Array<ArrayBuffer>;
  filled: number;
}

/**
 * Turns a byte stream from a client into frames, whatever the split of the input. Client frames
 * must be masked; the payloads it returns are unmasked. After a {@link ProtocolViolation} it
 * yields nothing more: the connection is to be failed.
 *
 * @example
 * ```ts
 * import { FrameParser } from "./parser.ts";
 * const parser = new FrameParser({ maxPayload: 1 << 20, allowRsv1: false });
 * parser.push(new Uint8Array([0x81, 0x80, 1, 2, 3, 4])); // an empty masked text frame
 * parser.next(); // { fin: true, rsv1: false, opcode: 1, payload: Uint8Array(0) }
 * parser.next(); // null: needs more bytes
 * ```
 */
export class FrameParser {
  readonly #options: FrameParserOptions;
  // Received bytes not yet consumed: whole chunks, the first one starting at #offset.
  #chunks: Uint8Array<ArrayBuffer>[] = [];
  #offset = 0;
  #buffered = 0;
  #failed = false;
  #partial: PartialFrame | undefined;
  /** The current frame's masking key; reused, as the payload is unmasked before `next` returns. */
  readonly #mask = new Uint8Array(4);

  /**
   * Creates a parser for one connection.
   *
   * @param options Limits; see {@link FrameParserOptions}.
   */
  constructor(options: FrameParserOptions) {
    this.#options = options;
  }

  /**
   * Adds received bytes. They are copied, so the caller may reuse its read buffer.
   *
   * @param bytes The next bytes of the stream.
   */
  push(bytes: Uint8Array): void {
    if (this.#failed) return;
    const partial = this.#partial;
    if (partial) {
      const n = Math.min(bytes.length, partial.payload.length - partial.filled);
      partial.payload.set(bytes.subarray(0, n), partial.filled);
      partial.filled += n;
      bytes = bytes.subarray(n);
    }
    if (bytes.length === 0) return;
    this.#chunks.push(bytes.slice());
    this.#buffered += bytes.length;
  }

  /**
   * Takes the next complete frame out, or returns `null` until more bytes are pushed, or a
   * {@link ProtocolViolation} telling which close code ends the connection.
   */
  next(): Frame | ProtocolViolation | null {
    const partial = this.#partial;
    if (partial) {
      if (partial.filled < partial.payload.length) return null;
      this.#partial = undefined;
      applyMask(partial.payload, this.#mask);
      return {
        fin: partial.fin,
        rsv1: partial.rsv1,
        opcode: partial.opcode,
        payload: partial.payload,
      };
    }
    if (this.#failed || this.#buffered < 2) return null;
    const head = this.#peek(2);
    const fin = (head[0] & 0x80) !== 0;
    const rsv1 = (head[0] & 0x40) !== 0;
    const opcode = head[0] & 0x0f;
    const masked = (head[1] & 0x80) !== 0;
    const shortLength = head[1] & 0x7f;

    if ((head[0] & 0x30) !== 0) return this.#fail(CloseCode.ProtocolError, "reserved bit set");
    if (!KNOWN_OPCODES.has(opcode)) return this.#fail(CloseCode.ProtocolError, "unknown opcode");
    if (
      rsv1 && !(this.#options.allowRsv1 && (opcode === Opcode.Text || opcode === Opcode.Binary))
    ) {
      return this.#fail(CloseCode.ProtocolError, "unexpected RSV1");
    }
    if (isControl(opcode) && !fin) return this.#fail(CloseCode.ProtocolError, "fragmented control");
    if (isControl(opcode) && shortLength > 125) {
      return this.#fail(CloseCode.ProtocolError, "control frame too long");
    }
    if (!masked) return this.#fail(CloseCode.ProtocolError, "unmasked client frame");

    const lengthBytes = shortLength === 126 ? 2 : shortLength === 127 ? 8 : 0;
    const headerLength = 2 + lengthBytes + 4;
    if (this.#buffered < headerLength) return null;
    const header = this.#peek(headerLength);
    let length = shortLength;
    if (lengthBytes === 2) length = header[2] << 8 | header[3];
    if (lengthBytes === 8) {
      if (header[2] & 0x80) {
        return this.#fail(CloseCode.ProtocolError, "length has its top bit set");
      }
      // Above 2^53 a number loses precision; any such length is over every limit anyway.
      const high = (header[2] << 24 | header[3] << 16 | header[4] << 8 | header[5]) >>> 0;
      if (high >= 0x20_0000) return this.#tooBig();
      length = high * 0x1_0000_0000 +
        ((header[6] << 24 | header[7] << 16 | header[8] << 8 | header[9]) >>> 0);
    }
    if (length > this.#options.maxPayload) return this.#tooBig();
    const complete = this.#buffered >= headerLength + length;
    if (!complete && length > DIRECT_PAYLOAD_BYTES) return null;

    const mask = this.#mask;
    for (let i = 0; i < 4; i++) mask[i] = header[headerLength - 4 + i];
    this.#consume(headerLength);
    const payload = new Uint8Array(length);
    if (!complete) {
      const filled = this.#buffered;
      this.#copyOut(payload, filled);
      this.#partial = { fin, rsv1, opcode: opcode as Opcode, payload, filled };
      return null;
    }
    this.#copyOut(payload, length);
    applyMask(payload, mask);
    return { fin, rsv1, opcode: opcode as Opcode, payload };
  }

  #tooBig(): ProtocolViolation {
    return this.#fail(CloseCode.MessageTooBig, "message too big");
  }

  #fail(code: number, reason: string): ProtocolViolation {
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#partial = undefined;
    return new ProtocolViolation(code, reason);
  }

  /** The first `n` buffered bytes, without consuming them; a view when they are contiguous. */
  #peek(n: number): Uint8Array<ArrayBuffer> {
    const first = this.#chunks[0];
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const chunk = this.#chunks[i];
      const start = i === 0 ? this.#offset : 0;
      const part = chunk.subarray(start, start + n - filled);
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  /**
   * Moves the first `n` buffered bytes into `out`. Payloads get a buffer of their own, never a
   * view into a chunk: the message then hands its `ArrayBuffer` to the app without a copy.
   */
  #copyOut(out: Uint8Array, n: number): void {
    this.#buffered -= n;
    for (let filled = 0; filled < n;) {
      const chunk = this.#chunks[0];
      const part = chunk.subarray(this.#offset, this.#offset + n - filled);
      out.set(part, filled);
      filled += part.length;
      if (this.#offset + part.length < chunk.length) this.#offset += part.length;
      else {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
  }

  #consume(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const available = this.#chunks[0].length - this.#offset;
      if (n < available) {
        this.#offset += n;
        return;
      }
      n -= available;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}
