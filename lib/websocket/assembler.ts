/**
 * Message-level rules over parsed frames (RFC 6455 §5.4–5.5): joins fragments, bounds message
 * size, decodes close frames. Sans-IO; decompression and UTF-8 checks of text come after it,
 * since a compressed message is only readable once inflated.
 *
 * @module
 */

import { CloseCode, type CloseInfo, decodeClosePayload, ProtocolViolation } from "./close.ts";
import { type Frame, Opcode } from "./frame.ts";

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
 * Joins frames into messages. Control frames may arrive between fragments and come out at
 * once; a data frame inside a fragmented message, or a continuation outside one, is 1002.
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
  #fragments: Uint8Array<ArrayBuffer>[] = [];
  #size = 0;
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
    this.#size += frame.payload.length;
    if (this.#size > this.#maxMessageSize) {
      return new ProtocolViolation(CloseCode.MessageTooBig, "message too big");
    }
    this.#fragments.push(frame.payload);
    if (!frame.fin) return null;

    const fragments = this.#fragments;
    const payload = fragments.length === 1 ? fragments[0] : new Uint8Array(this.#size);
    if (fragments.length > 1) {
      let offset = 0;
      for (const fragment of fragments) {
        payload.set(fragment, offset);
        offset += fragment.length;
      }
    }
    this.#fragments = [];
    this.#size = 0;
    this.#inMessage = false;
    return { type: "message", text: this.#text, compressed: this.#compressed, payload };
  }
}
