/**
 * Close codes (RFC 6455 §7.4) and the close frame payload: a 2-byte code then a UTF-8 reason.
 *
 * @module
 */

import { decodeUtf8 } from "./utf8.ts";

/** The close codes this server sends or reports. */
export const CloseCode = {
  /** The purpose of the connection was fulfilled. */
  Normal: 1000,
  /** The server is shutting down, or the peer stopped answering pings. */
  GoingAway: 1001,
  /** The peer broke the framing rules. */
  ProtocolError: 1002,
  /** Reported (never sent) when a close frame carried no code. */
  NoStatus: 1005,
  /** Reported (never sent) when the connection ended without a close frame. */
  Abnormal: 1006,
  /** A text message or close reason was not valid UTF-8, or compressed data was corrupt. */
  InvalidPayload: 1007,
  /** The peer does not read what it is sent (see `MAX_BUFFERED_AMOUNT`). */
  PolicyViolation: 1008,
  /** A message exceeded `maxMessageSize`. */
  MessageTooBig: 1009,
  /** The server hit an unexpected condition. */
  InternalError: 1011,
} as const;

/** Why the peer's input ended the connection: the code and reason to send in our close frame. */
export class ProtocolViolation {
  /**
   * Describes a violation.
   *
   * @param code The close code to send (1002, 1007 or 1009).
   * @param reason A short explanation, sent as the close reason (at most 123 bytes).
   */
  constructor(readonly code: number, readonly reason: string) {}
}

/**
 * Whether `code` may travel in a close frame: 1000–1003, 1007–1014 and 3000–4999. 1004 is
 * reserved; 1005, 1006 and 1015 exist only to report what happened, never on the wire.
 *
 * @example
 * ```ts
 * import { isSendableCloseCode } from "./close.ts";
 * isSendableCloseCode(1000); // true
 * isSendableCloseCode(1005); // false
 * ```
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

/** A close frame's content; `code` is {@link CloseCode.NoStatus} when the frame was empty. */
export interface CloseInfo {
  /** The status code. */
  readonly code: number;
  /** The reason, possibly empty. */
  readonly reason: string;
}

/**
 * Decodes a close frame payload, validating the code and the reason's UTF-8.
 *
 * @example
 * ```ts
 * import { decodeClosePayload } from "./close.ts";
 * decodeClosePayload(new Uint8Array([0x03, 0xe8])); // { code: 1000, reason: "" }
 * ```
 */
export function decodeClosePayload(payload: Uint8Array): CloseInfo | ProtocolViolation {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: "" };
  if (payload.length === 1) {
    return new ProtocolViolation(CloseCode.ProtocolError, "truncated close code");
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isSendableCloseCode(code)) {
    return new ProtocolViolation(CloseCode.ProtocolError, "invalid close code");
  }
  const reason = decodeUtf8(payload.subarray(2));
  if (reason === undefined) {
    return new ProtocolViolation(CloseCode.InvalidPayload, "close reason is not UTF-8");
  }
  return { code, reason };
}

/**
 * Encodes a close frame payload; with no code the payload is empty (the peer sees 1005).
 *
 * @example
 * ```ts
 * import { encodeClosePayload } from "./close.ts";
 * encodeClosePayload(1001, "bye"); // 0x03 0xe9 "bye"
 * ```
 */
export function encodeClosePayload(code?: number, reason = ""): Uint8Array<ArrayBuffer> {
  if (code === undefined) return new Uint8Array(0);
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
