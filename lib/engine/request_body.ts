/**
 * A request body read off its connection: Content-Length and chunked framing, `Expect:
 * 100-continue`, reads straight into the app's arrays, a stream made only when the app asks for
 * one, and skipping what the app left unread so the connection can go on.
 *
 * The connection owns the socket and the read buffer; it lends them through {@link BodyInput}.
 *
 * @module
 */

import { concat } from "../http/concat.ts";
import { ChunkedDecoder } from "../http/chunked.ts";
import { ProtocolError } from "../http/error.ts";
import type { RequestHead } from "../http/head.ts";
import type { RequestBody } from "../app/request.ts";

/** What a body needs from its connection. */
export interface BodyInput {
  /** The read buffer; the bytes not yet taken are `buffer[start, end)`. */
  readonly buffer: Uint8Array;
  /** Where the unread bytes start; the body moves it past what it takes. */
  start: number;
  /** Where the unread bytes end. */
  readonly end: number;
  /** Reads more into the buffer, under the body's timeout; false at the end of the stream. */
  fill(): Promise<boolean>;
  /**
   * Reads from the socket straight into `into`, under the body's timeout: the count, 0 at the
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

/** Unread body the connection skips to stay open; more, and it closes instead. */
const MAX_SKIP = 64 * 1024;
/**
 * A Content-Length body up to this size is read into one array of its size by `bytes()`. Larger
 * ones are gathered as they arrive, so a declared length alone (from a client that then sends
 * nothing) never makes the server allocate more than this.
 */
const WHOLE_BODY = 1024 * 1024;
/** The most a read straight from the socket takes into a chunk of its own. */
const DIRECT_CHUNK = 64 * 1024;
/** Where skipped bytes go: nothing reads them. */
const skipBuffer = new Uint8Array(16 * 1024);

/** One request's body. */
export class RequestBodyReader implements RequestBody {
  /** Bytes of a Content-Length body still to read, or -1 for chunked. */
  #remaining: number;
  readonly #chunked: ChunkedDecoder | null;
  /** Decoded chunked data not handed out yet (copies, not views of the read buffer). */
  readonly #parts: Uint8Array[] = [];
  #done = false;
  #touched = false;
  /** A read for this body is in flight. */
  #reading = false;
  /** The framing error that ended the body, if any. */
  #error: ProtocolError | null = null;
  /** What every further read of a body that failed throws. */
  #failed: TypeError | null = null;
  #expectContinue: boolean;
  #stream: ReadableStream<Uint8Array> | null = null;
  readonly #input: BodyInput;

  /** The body `head` announces, read from `input`; a chunked one may be `maxBody` bytes (0: any). */
  constructor(head: RequestHead, maxBody: number, input: BodyInput) {
    this.#remaining = head.chunked ? -1 : head.contentLength;
    this.#chunked = head.chunked ? new ChunkedDecoder(maxBody) : null;
    this.#expectContinue = head.expectContinue && head.minor === 1;
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

  /** Something read from it or cancelled it. */
  get used(): boolean {
    return this.#touched;
  }

  /**
   * Whether the connection can stay open without the app reading it: the app touched it, or
   * what is left is a small Content-Length remainder and no client waits for `100 Continue`.
   */
  get skippable(): boolean {
    return this.#touched ||
      (!this.#expectContinue && this.#remaining >= 0 && this.#remaining <= MAX_SKIP);
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
    const input = this.#input;
    if (this.#chunked === null && this.#remaining <= input.end - input.start) {
      // Already here in full (a small POST): one copy out of the read buffer.
      return (await this.#next(null) ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>;
    }
    if (this.#chunked === null && this.#remaining <= WHOLE_BODY) {
      const whole = new Uint8Array(this.#remaining);
      let filled = 0;
      while (filled < whole.length) {
        const chunk = await this.#next(whole.subarray(filled));
        if (chunk === null) break;
        filled += chunk.length;
      }
      return whole;
    }
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let size = 0;
    for (;;) {
      const chunk = await this.#next(null);
      if (chunk === null) break;
      chunks.push(chunk as Uint8Array<ArrayBuffer>);
      size += chunk.length;
    }
    return chunks.length === 0 ? new Uint8Array(0) : concat(chunks, size);
  }

  /**
   * The next piece of the body, or null at its end. With `into`, the bytes are read or copied
   * into it (at most its length) and a view of it is returned; without, a new array the app may
   * keep.
   */
  async #next(into: Uint8Array | null): Promise<Uint8Array | null> {
    this.#touched = true;
    if (this.#failed !== null) throw this.#failed;
    if (this.#parts.length > 0) return takePart(this.#parts, into);
    if (this.#done) return null;
    const input = this.#input;
    if (this.#expectContinue) {
      this.#expectContinue = false;
      if (input.end === input.start) await input.sendContinue();
    }
    this.#reading = true;
    try {
      for (;;) {
        if (input.start < input.end) {
          const chunk = this.#fromBuffer(into);
          if (chunk !== undefined) return chunk;
        } else if (this.#chunked === null) {
          // Nothing buffered: read straight into the chunk handed out, skipping the buffer.
          const chunk = into === null
            ? new Uint8Array(Math.min(this.#remaining, DIRECT_CHUNK))
            : into.length > this.#remaining
            ? into.subarray(0, this.#remaining)
            : into;
          const reading = input.readInto(chunk);
          if (reading !== null) {
            const n = await reading;
            if (n === 0) break;
            this.#took(n);
            return chunk.subarray(0, n);
          }
        }
        if (!(await input.fill())) break;
      }
      this.#done = true;
      const gone = new TypeError("client closed the connection before the body ended");
      input.lost(gone);
      throw this.#failed = gone;
    } finally {
      this.#reading = false;
      if (this.#done) input.finished();
    }
  }

  /**
   * The next piece from the read buffer (which holds some): a chunk, null at the end, or
   * undefined when what is buffered completes no data yet and more must be read.
   */
  #fromBuffer(into: Uint8Array | null): Uint8Array | null | undefined {
    const input = this.#input;
    const start = input.start;
    if (this.#chunked === null) {
      const n = Math.min(this.#remaining, input.end - start, into?.length ?? Infinity);
      let chunk: Uint8Array;
      if (into === null) {
        chunk = input.buffer.slice(start, start + n);
      } else {
        into.set(input.buffer.subarray(start, start + n));
        chunk = into.subarray(0, n);
      }
      input.start = start + n;
      this.#took(n);
      return chunk;
    }
    const parts = this.#parts;
    const used = this.#chunked.feed(input.buffer, start, input.end, parts);
    if (used instanceof ProtocolError) {
      this.#error = used;
      this.#done = true;
      throw this.#failed = new TypeError(`invalid request body: ${used.reason}`);
    }
    input.start = used;
    // The decoder hands out views of the read buffer, which the next read reuses.
    for (let i = 0; i < parts.length; i++) parts[i] = parts[i].slice();
    if (this.#chunked.done) this.#done = true;
    if (parts.length > 0) return takePart(parts, into);
    return this.#done ? null : undefined;
  }

  /** `n` bytes of a Content-Length body were taken. */
  #took(n: number): void {
    this.#remaining -= n;
    if (this.#remaining === 0) this.#done = true;
  }
}

/** The first queued part (or as much of it as fits `into`). */
function takePart(parts: Uint8Array[], into: Uint8Array | null): Uint8Array {
  const part = parts[0];
  if (into === null) {
    parts.shift();
    return part;
  }
  const n = Math.min(part.length, into.length);
  into.set(part.subarray(0, n));
  if (n === part.length) parts.shift();
  else parts[0] = part.subarray(n);
  return into.subarray(0, n);
}
