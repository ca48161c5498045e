/**
 * The RFC 6455 frame vocabulary and the frame encoder. Pure functions over bytes: no I/O.
 *
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** One of the {@link Opcode} values. */
export type Opcode = typeof Opcode[keyof typeof Opcode];

/** A decoded frame; `payload` is already unmasked. */
export interface Frame {
  /** Whether this is the final fragment of its message. */
  readonly fin: boolean;
  /** RSV1: on the first frame of a data message, marks it compressed by permessage-deflate. */
  readonly rsv1: boolean;
  /** What the frame carries. */
  readonly opcode: Opcode;
  /** The application data; from the parser, a whole buffer of its own. */
  readonly payload: Uint8Array<ArrayBuffer>;
}

/** What {@link encodeFrame} needs; a client (tests) sets `mask`, a server never does. */
export interface FrameInit {
  /** Final fragment; defaults to `true`. */
  readonly fin?: boolean;
  /** Sets RSV1 (a compressed message); defaults to `false`. */
  readonly rsv1?: boolean;
  /** What the frame carries. */
  readonly opcode: Opcode;
  /** The application data; left untouched even when masking. */
  readonly payload: Uint8Array;
  /** A 4-byte masking key: clients must mask, servers must not (RFC 6455 §5.1). */
  readonly mask?: Uint8Array;
}

/** Whether `opcode` is a control opcode (close, ping, pong). */
export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/**
 * XORs `data` in place with a 4-byte masking key (RFC 6455 §5.3); masking and unmasking are the
 * same operation.
 *
 * @example
 * ```ts
 * import { applyMask } from "./frame.ts";
 * const data = new Uint8Array([1, 2, 3]);
 * applyMask(data, new Uint8Array([1, 2, 3, 4])); // data is now [0, 0, 0]
 * ```
 */
export function applyMask(data: Uint8Array, mask: Uint8Array): void {
  const n = data.length;
  let i = 0;
  // Whole words at a time in the aligned middle: payloads reach megabytes and a byte loop is
  // several times slower there; small ones are not worth the word view.
  if (n >= 64) {
    const lead = (4 - (data.byteOffset & 3)) & 3;
    for (; i < lead; i++) data[i] ^= mask[i & 3];
    const words = (n - i) >>> 2;
    // The mask as a little-endian word, rotated to start at byte i (Deno runs little-endian).
    const key = (mask[i & 3] | mask[(i + 1) & 3] << 8 | mask[(i + 2) & 3] << 16 |
      mask[(i + 3) & 3] << 24) >>> 0;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= key;
    i += words * 4;
  }
  for (; i < n; i++) data[i] ^= mask[i & 3];
}

/**
 * Encodes one frame, header and payload in a single buffer, using the shortest length form.
 *
 * @example A server text frame
 * ```ts
 * import { encodeFrame, Opcode } from "./frame.ts";
 * const bytes = encodeFrame({ opcode: Opcode.Text, payload: new TextEncoder().encode("hi") });
 * // bytes: 0x81 0x02 0x68 0x69
 * ```
 */
export function encodeFrame(frame: FrameInit): Uint8Array<ArrayBuffer> {
  const { payload, mask } = frame;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (mask ? 4 : 0);
  const out = new Uint8Array(headerLength + length);
  out[0] = (frame.fin === false ? 0 : 0x80) | (frame.rsv1 ? 0x40 : 0) | frame.opcode;
  out[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) {
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else if (lengthBytes === 8) {
    // Lengths stay below 2^53; the high word holds what lies above 2^32.
    const high = Math.floor(length / 0x1_0000_0000);
    out[2] = (high >>> 24) & 0xff;
    out[3] = (high >>> 16) & 0xff;
    out[4] = (high >>> 8) & 0xff;
    out[5] = high & 0xff;
    out[6] = (length >>> 24) & 0xff;
    out[7] = (length >>> 16) & 0xff;
    out[8] = (length >>> 8) & 0xff;
    out[9] = length & 0xff;
  }
  out.set(payload, headerLength);
  if (mask) {
    out.set(mask, headerLength - 4);
    applyMask(out.subarray(headerLength), mask);
  }
  return out;
}
