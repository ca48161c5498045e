/**
 * A request body read off its connection: Content-Length and chunked framing, `Expect:
 * 100-continue`, reads straight into the app's arrays, a stream made only when the app asks for
 * one, and skipping what the app left unread so the connection can go on.
 *
 * Memory follows the data, not the way it was sent: chunked data is decoded in place and
 * gathered in one growing queue (a million one-byte chunks cost a megabyte, not a million
 * arrays), and a body trickling in small pieces is not kept in large, mostly empty arrays.
 *
 * The connection owns the socket and the read buffer; it lends them through {@link BodyInput}.
 *
 * @module
 */

import { ChunkedDecoder } from "../http/chunked.ts";
import { ProtocolError } from "../http/error.ts";
import { type BodyLeft, MAX_SKIP } from "../http/persistence.ts";
import { CHUNKED_BODY, sendsContinue } from "../http/request_framing.ts";
import type { RequestBody } from "../app/request.ts";
import { ByteQueue } from "./byte_queue.ts";
import type { ReadBuffer } from "./read_buffer.ts";

/** What a body needs from its connection. */
export interface BodyInput {
  /** The connection's read buffer; the body takes its bytes from the front. */
  readonly reads: ReadBuffer;
  /** Reads more into the buffer, under the body's deadline; false at the end of the stream. */
  fill(): Promise<boolean>;
  /**
   * Reads from the socket straight into `into`, under the body's deadline: the count, 0 at the
   * end of the stream; null when it cannot now (a read is in flight or the stream ended), and
   * the buffer must be filled instead.
   */
  readInto(into: Uint8Array): Promise<number> | null;
  /** Sends `100 Continue`. */
  sendContinue(): Promise<void>;
  /** The client left before the body ended. */
  lost(reason: TypeError): void;
  /** The whole body has been read. */
  finished(): void;
}

/**
 * A Content-Length body up to this size is read into one array of its size by `bytes()`. A
 * larger one goes into an array that doubles as the data arrives, so a declared length alone
 * (from a client that then sends nothing) never makes the server allocate more than this.
 */
const WHOLE_BODY = 1024 * 1024;
/** The most a read straight from the socket takes into a chunk of its own. */
const DIRECT_CHUNK = 64 * 1024;
/** Where skipped bytes go: nothing reads them. */
const skipBuffer = new Uint8Array(16 * 1024);

/**
 * One request's body.
 *
 * @example
 * ```ts ignore
 * const body = new RequestBodyReader(26, false, Infinity, input);
 * const bytes = await body.bytes();
 * ```
 */
export class RequestBodyReader implements RequestBody, BodyLeft {
  /** Bytes of a Content-Length body still to read, or -1 for chunked. */
  #remaining: number;
  readonly #chunked: ChunkedDecoder | null;
  /** Decoded chunked data not handed out yet. */
  readonly #decoded: ByteQueue | null;
  /** Where a read straight from the socket goes when the app gave no array; kept while reads stay small. */
  #spare: Uint8Array | null = null;
  #done = false;
  #touched = false;
  /** A read for this body is in flight. */
  #reading = false;
  /** The framing error that ended the body, if any. */
  #error: ProtocolError | null = null;
  /** What every further read of a body that failed throws. */
  #failed: TypeError | null = null;
  #clientLeft = false;
  #awaitingContinue: boolean;
  #stream: ReadableStream<Uint8Array> | null = null;
  readonly #input: BodyInput;

  /**
   * A body of `length` bytes (or {@link CHUNKED_BODY}); a chunked one may decode to `maxBody`
   * bytes (`Infinity` for no limit). `awaitingContinue`: the client waits for `100 Continue`.
   */
  constructor(length: number, awaitingContinue: boolean, maxBody: number, input: BodyInput) {
    const chunked = length === CHUNKED_BODY;
    this.#remaining = length;
    this.#chunked = chunked ? new ChunkedDecoder(maxBody) : null;
    this.#decoded = chunked ? new ByteQueue() : null;
    this.#awaitingContinue = awaitingContinue;
    this.#input = input;
  }

  /** All of it has been read (or it failed). */
  get done(): boolean {
    return this.#done;
  }

  /** The framing error that ended it, to answer with its status. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /** It failed: bad framing, or the client left inside it. */
  get failed(): boolean {
    return this.#failed !== null;
  }

  /** The error its reads throw since the client left inside it, or null. */
  get clientLeft(): TypeError | null {
    return this.#clientLeft ? this.#failed : null;
  }

  /** Something read from it or cancelled it. */
  get used(): boolean {
    return this.#touched;
  }

  /** Something read from it or cancelled it. */
  get touched(): boolean {
    return this.#touched;
  }

  /** The client still waits for `100 Continue`. */
  get awaitingContinue(): boolean {
    return this.#awaitingContinue;
  }

  /** Bytes of a Content-Length body still unread; -1 for chunked. */
  get remaining(): number {
    return this.#remaining;
  }

  /** The body as a stream; the same one on every call. */
  stream(): ReadableStream<Uint8Array> {
    return this.#stream ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await this.#next(null);
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: () => {
        this.#touched = true;
      },
    }, { highWaterMark: 0 });
  }

  /** The whole body in one array: a Content-Length body is read straight into it. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#touched || this.#stream?.locked) {
      return Promise.reject(new TypeError("Body already consumed"));
    }
    return this.#whole();
  }

  /**
   * The whole body, taken at once, when it is already in the read buffer (a small
   * Content-Length POST, the common case); undefined when it must be read. `json()` and `text()`
   * use it to skip four nested async calls (A/B 4 in bench/AB.md).
   */
  takeBuffered(): Uint8Array<ArrayBuffer> | undefined {
    if (
      this.#chunked !== null || this.#touched || this.#stream !== null ||
      this.#failed !== null || this.#awaitingContinue
    ) return undefined;
    const reads = this.#input.reads;
    const total = this.#remaining;
    if (total > reads.buffered) return undefined;
    this.#touched = true;
    const start = reads.start;
    const whole = reads.bytes.slice(start, start + total);
    reads.start = start + total;
    this.#took(total);
    this.#input.finished();
    return whole;
  }

  /**
   * Reads and discards what the app left, so the next request can be parsed. False when the
   * connection must close instead: too much left, the app still reading, or a framing error.
   */
  async skip(): Promise<boolean> {
    if (this.#reading || this.#stream?.locked) return false;
    let skipped = 0;
    try {
      for (;;) {
        const chunk = await this.#next(skipBuffer);
        if (chunk === null) return this.#error === null;
        skipped += chunk.length;
        if (skipped > MAX_SKIP) return false;
      }
    } catch {
      return false;
    }
  }

  async #whole(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#chunked !== null) {
      while (await this.#next(skipBuffer.subarray(0, 0)) !== null) {
        // Each turn decodes what arrived into the queue; nothing is handed out.
      }
      return this.#decoded!.takeAll();
    }
    const reads = this.#input.reads;
    const total = this.#remaining;
    if (total <= reads.buffered) {
      // Already here in full (a small POST): one copy out of the read buffer.
      return (await this.#next(null) ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>;
    }
    let whole = new Uint8Array(Math.min(total, WHOLE_BODY));
    let filled = 0;
    for (;;) {
      if (filled === whole.length) {
        if (filled === total) break;
        const bigger = new Uint8Array(Math.min(total, whole.length * 2));
        bigger.set(whole);
        whole = bigger;
      }
      const chunk = await this.#next(whole.subarray(filled));
      if (chunk === null) break;
      filled += chunk.length;
    }
    return filled === whole.length ? whole : whole.subarray(0, filled);
  }

  /**
   * The next piece of the body, or null at its end. With `into`, the bytes are read or copied
   * into it (at most its length) and a view of it is returned; without, an array the app may
   * keep. (An empty `into` only decodes what arrived: chunked data waits in the queue.)
   */
  async #next(into: Uint8Array | null): Promise<Uint8Array | null> {
    this.#touched = true;
    if (this.#failed !== null) throw this.#failed;
    const decoded = this.#decoded;
    if (decoded !== null && decoded.length > 0 && into?.length !== 0) return decoded.take(into);
    if (this.#done) return null;
    const input = this.#input;
    const reads = input.reads;
    if (this.#awaitingContinue) {
      this.#awaitingContinue = false;
      if (sendsContinue(true, reads.buffered)) await input.sendContinue();
    }
    this.#reading = true;
    try {
      for (;;) {
        if (reads.start < reads.end) {
          const chunk = this.#fromBuffer(into);
          if (chunk !== undefined) return chunk;
        } else if (this.#chunked === null) {
          // Nothing buffered: read straight into the chunk handed out, skipping the buffer.
          const target = this.#target(into);
          const reading = input.readInto(target);
          if (reading !== null) {
            const n = await reading;
            if (n === 0) break;
            this.#took(n);
            return this.#handOut(target, n, into);
          }
        }
        if (!(await input.fill())) break;
      }
      this.#done = true;
      this.#clientLeft = true;
      const gone = new TypeError("client closed the connection before the body ended");
      input.lost(gone);
      throw this.#failed = gone;
    } finally {
      this.#reading = false;
      if (this.#done) input.finished();
    }
  }

  /** Where a read straight from the socket goes: `into`, or the spare array. */
  #target(into: Uint8Array | null): Uint8Array {
    const remaining = this.#remaining;
    if (into !== null) return into.length > remaining ? into.subarray(0, remaining) : into;
    const spare = this.#spare ??= new Uint8Array(Math.min(remaining, DIRECT_CHUNK));
    return spare.length > remaining ? spare.subarray(0, remaining) : spare;
  }

  /**
   * The `n` bytes read into `target`. The spare array is handed out when the read filled most
   * of it; a small read is copied out instead and the spare kept for the next, so a body that
   * trickles in costs its own size rather than an array of `DIRECT_CHUNK` per piece.
   */
  #handOut(target: Uint8Array, n: number, into: Uint8Array | null): Uint8Array {
    if (into !== null) return target.subarray(0, n);
    if (n * 2 < target.length) return target.slice(0, n);
    this.#spare = null;
    return target.subarray(0, n);
  }

  /**
   * The next piece from the read buffer (which holds some): a chunk, null at the end, or
   * undefined when what is buffered completes no data yet and more must be read.
   */
  #fromBuffer(into: Uint8Array | null): Uint8Array | null | undefined {
    const reads = this.#input.reads;
    const start = reads.start;
    if (this.#chunked === null) {
      const n = Math.min(this.#remaining, reads.end - start, into?.length ?? Infinity);
      let chunk: Uint8Array;
      if (into === null) {
        chunk = reads.bytes.slice(start, start + n);
      } else {
        into.set(reads.bytes.subarray(start, start + n));
        chunk = into.subarray(0, n);
      }
      reads.start = start + n;
      this.#took(n);
      return chunk;
    }
    const used = this.#chunked.feed(reads.bytes, start, reads.end);
    if (used instanceof ProtocolError) {
      this.#error = used;
      this.#done = true;
      throw this.#failed = new TypeError(`invalid request body: ${used.reason}`);
    }
    // Decoded in place, over bytes the next read reuses: into the queue before anything else.
    const decoded = this.#decoded!;
    decoded.append(reads.bytes, start, this.#chunked.dataEnd);
    reads.start = used;
    if (this.#chunked.done) this.#done = true;
    if (into?.length === 0) return this.#done ? null : undefined;
    if (decoded.length > 0) return decoded.take(into);
    return this.#done ? null : undefined;
  }

  /** `n` bytes of a Content-Length body were taken. */
  #took(n: number): void {
    this.#remaining -= n;
    if (this.#remaining === 0) this.#done = true;
  }
}
