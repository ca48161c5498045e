/**
 * The connection as a request body sees it: its read buffer, reads under the body's deadline,
 * and `100 Continue`.
 *
 * A body's deadline is the earlier of two: `--timeout` from the start of each read (the idle
 * limit), and a minimum average rate over the whole body — after a grace of `--timeout` from
 * its first byte, at least {@link MIN_BODY_RATE} bytes a second. A client sending a byte every
 * 299 s used to hold a connection for as long as it liked; now it is cut off about `--timeout`
 * after it started, while a large upload at any useful speed never runs into the rate.
 *
 * @module
 */

import type { BodyInput } from "./request_body.ts";
import type { ReadBuffer } from "./read_buffer.ts";
import type { ResponseWriter } from "./response_writer.ts";
import { now } from "./clock.ts";

/** The slowest average a request body may arrive at, after its grace (bytes per second). */
export const MIN_BODY_RATE = 1024;

/**
 * When a body read starting at `at` must end: `timeout` ms of silence, or falling behind
 * {@link MIN_BODY_RATE} once the body (which began at `started` and has brought `received`
 * bytes so far) is past its grace of `timeout`.
 *
 * @example
 * ```ts
 * import { bodyReadDeadline } from "./body_input.ts";
 * bodyReadDeadline(0, 0, 300_000, 299_000); // 300000: the trickler's time is up
 * bodyReadDeadline(0, 1 << 30, 300_000, 299_000); // 599000: a fast upload only has the idle limit
 * ```
 */
export function bodyReadDeadline(
  started: number,
  received: number,
  timeout: number,
  at: number,
): number {
  return Math.min(at + timeout, started + timeout + received * 1000 / MIN_BODY_RATE);
}

/** What the body input needs from its connection. */
export interface BodyHost {
  /** The read buffer. */
  readonly reads: ReadBuffer;
  /** The connection's response output (for `100 Continue`). */
  readonly writer: ResponseWriter;
  /** A read straight into an array may start now: no read in flight, the stream open. */
  readonly canReadDirect: boolean;
  /** Writes what is pending, then reads more into the buffer; false at the end of the stream. */
  fillBuffer(): Promise<boolean>;
  /** Writes what is pending, then reads into `into`; 0 at the end of the stream. */
  readDirect(into: Uint8Array): Promise<number>;
  /** A body read starts and must end by `deadline`; 0: it ended. */
  bodyWait(deadline: number): void;
  /** The client left inside the body. */
  lostClient(reason: TypeError): void;
  /** The whole body has been read. */
  bodyFinished(): void;
}

/**
 * The {@link BodyInput} of one connection, reused for each of its bodies.
 *
 * @example
 * ```ts ignore
 * const input = new ConnectionBodyInput(connection, options.timeout);
 * input.begin();
 * const body = new RequestBodyReader(length, expect, maxBody, input);
 * ```
 */
export class ConnectionBodyInput implements BodyInput {
  readonly #host: BodyHost;
  readonly #timeout: number;
  #started = 0;
  #received = 0;

  /** For `host`, whose idle limit is `timeout` ms. */
  constructor(host: BodyHost, timeout: number) {
    this.#host = host;
    this.#timeout = timeout;
  }

  /** The connection's read buffer. */
  get reads(): ReadBuffer {
    return this.#host.reads;
  }

  /** A new body starts now. */
  begin(): void {
    this.#started = now();
    this.#received = 0;
  }

  /** Reads more into the buffer, under the body's deadline. */
  async fill(): Promise<boolean> {
    const host = this.#host;
    const before = host.reads.end - host.reads.start;
    this.#wait();
    try {
      const more = await host.fillBuffer();
      if (more) this.#received += host.reads.end - host.reads.start - before;
      return more;
    } finally {
      host.bodyWait(0);
    }
  }

  /** Reads straight into `into`, under the body's deadline; null when it cannot now. */
  readInto(into: Uint8Array): Promise<number> | null {
    if (!this.#host.canReadDirect) return null;
    return this.#readInto(into);
  }

  async #readInto(into: Uint8Array): Promise<number> {
    const host = this.#host;
    this.#wait();
    try {
      const n = await host.readDirect(into);
      this.#received += n;
      return n;
    } finally {
      host.bodyWait(0);
    }
  }

  /** Sends `100 Continue` (after anything pending). */
  sendContinue(): Promise<void> {
    const writer = this.#host.writer;
    writer.writeInterim(100, []);
    return writer.flush();
  }

  /** The client left inside the body. */
  lost(reason: TypeError): void {
    this.#host.lostClient(reason);
  }

  /** The whole body has been read. */
  finished(): void {
    this.#host.bodyFinished();
  }

  #wait(): void {
    this.#host.bodyWait(
      bodyReadDeadline(this.#started, this.#received, this.#timeout, now()),
    );
  }
}
