/**
 * A protocol error found while reading a request: the status to answer with and why.
 *
 * The sans-IO parsers return it rather than throw, so the hot path never unwinds a stack.
 *
 * @module
 */

/** A request the server must refuse with `status`; `reason` is for the log and the body. */
export class ProtocolError {
  /** The HTTP status to respond with (400, 413, 414, 417, 431, 501, 505). */
  readonly status: number;
  /** A short human-readable cause. */
  readonly reason: string;
  /**
   * The request's minor HTTP version when the request line was valid enough to tell (0 for an
   * HTTP/1.0 client, whose answer should say `HTTP/1.0`); 1 otherwise.
   */
  readonly minor: number;

  /** Creates a protocol error. */
  constructor(status: number, reason: string, minor = 1) {
    this.status = status;
    this.reason = reason;
    this.minor = minor;
  }
}
