/**
 * Message-level rules over parsed frames (RFC 6455 §5.4–5.5): joins fragments, bounds message
 * size, decodes close frames. Sans-IO; decompression and UTF-8 checks of text come after it,
 * since a compressed message is only readable once inflated.
 *
 * @module
 */

import { CloseCode, type CloseInfo, decodeClosePayload, ProtocolViolation } from "./close.ts";
import { type Frame, Opcode } from "./frame.ts";

const EMPTY = new Uint8Array(0);

/** What a frame amounted to, once it completes something. */
export type Incoming =
  | {
    readonly type: "message";
    /** A text (else binary) message; its UTF-8 is not checked yet. */
    readonly text: boolean;
    /** Sent with permessage-deflate: `payload` still needs inflating. */
    readonly compressed: boolean;
    readonly payload: Uint8Array<ArrayBuffer>;
  }
  | { readonly type: "ping"; readonly payload: Uint8Array<ArrayBuffer> }
  | { readonly type: "pong"; readonly payload: Uint8Array<ArrayBuffer> }
  | ({ readonly type: "close" } & CloseInfo);

/**
 * Most frames one message may span. Fragments cost no memory beyond their payload (they are
 * appended to one buffer), but each is a frame to parse: without a bound, 18 MB of empty
 * continuation frames are three million of them for a message of no bytes. Senders that
 * fragment use fragments of kilobytes (a 64 MiB message in 1 KiB fragments fits).
 */
export const MAX_FRAGMENTS = 65_536;

/**
 * Joins frames into messages. Control frames may arrive between fragments and come out at
 * once; a data frame inside a fragmented message, or a continuation outside one, is 1002. A
 * message over the size limit, or in more than {@link MAX_FRAGMENTS} frames, is 1009.
 *
 * @example
 * ```ts
 * import { MessageAssembler } from "./assembler.ts";
 * const assembler = new MessageAssembler(1 << 20);
 * const part = (fin: boolean, opcode: 0 | 1, text: string) =>
 *   assembler.accept({ fin, rsv1: false, opcode, payload: new TextEncoder().encode(text) });
 * part(false, 1, "hel"); // null: the message continues
 * part(true, 0, "lo"); // { type: "message", text: true, compressed: false, payload: "hello" }
 * ```
 */
export class MessageAssembler {
  readonly #maxMessageSize: number;
  /** The message so far: the first fragment's own payload, then a buffer it grows in. */
  #buffer: Uint8Array<ArrayBuffer> = EMPTY;
  /** Whether {@link #buffer} is a buffer of ours with room to spare (not a frame's payload). */
  #growing = false;
  #size = 0;
  #fragments = 0;
  #text = false;
  #compressed = false;
  #inMessage = false;

  /**
   * Creates an assembler for one connection.
   *
   * @param maxMessageSize The largest message, in bytes as received (compressed or not). */
  constructor(maxMessageSize: number) {
    this.#maxMessageSize = maxMessageSize;
  }

  /**
   * Accepts the next frame: returns what it completed, `null` when a message continues, or the
   * {@link ProtocolViolation} that ends the connection.
   */
  accept(frame: Frame): Incoming | ProtocolViolation | null {
    switch (frame.opcode) {
      case Opcode.Ping:
        return { type: "ping", payload: frame.payload };
      case Opcode.Pong:
        return { type: "pong", payload: frame.payload };
      case Opcode.Close: {
        const close = decodeClosePayload(frame.payload);
        return close instanceof ProtocolViolation ? close : { type: "close", ...close };
      }
      case Opcode.Continuation:
        if (!this.#inMessage) {
          return new ProtocolViolation(CloseCode.ProtocolError, "continuation without a message");
        }
        return this.#add(frame);
      default:
        if (this.#inMessage) {
          return new ProtocolViolation(CloseCode.ProtocolError, "expected a continuation frame");
        }
        this.#inMessage = true;
        this.#text = frame.opcode === Opcode.Text;
        this.#compressed = frame.rsv1;
        return this.#add(frame);
    }
  }

  #add(frame: Frame): Incoming | ProtocolViolation | null {
    const payload = frame.payload;
    const size = this.#size + payload.length;
    if (size > this.#maxMessageSize) {
      return new ProtocolViolation(CloseCode.MessageTooBig, "message too big");
    }
    if (++this.#fragments > MAX_FRAGMENTS) {
      return new ProtocolViolation(CloseCode.MessageTooBig, "message in too many fragments");
    }
    if (this.#fragments === 1) this.#buffer = payload;
    else if (payload.length > 0) {
      if (!this.#growing || size > this.#buffer.length) this.#grow(size);
      this.#buffer.set(payload, this.#size);
    }
    this.#size = size;
    if (!frame.fin) return null;

    // The app may be handed the message's ArrayBuffer: it holds the message and nothing more.
    const buffer = this.#buffer;
    const message = buffer.length === size ? buffer : new Uint8Array(buffer.buffer.transfer(size));
    this.#buffer = EMPTY;
    this.#growing = false;
    this.#size = 0;
    this.#fragments = 0;
    this.#inMessage = false;
    return { type: "message", text: this.#text, compressed: this.#compressed, payload: message };
  }

  /** Room for at least `size` bytes, doubling (amortised copies), never past the size limit. */
  #grow(size: number): void {
    const room = Math.max(size, Math.min(2 * this.#buffer.length, this.#maxMessageSize));
    const grown = new Uint8Array(room);
    grown.set(this.#buffer.subarray(0, this.#size));
    this.#buffer = grown;
    this.#growing = true;
  }
}
