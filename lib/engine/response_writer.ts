/**
 * Writes a connection's responses: heads through the sans-IO serialiser, static bodies copied
 * behind them, streamed bodies chunk by chunk, and the server's own refusals and failures. The
 * output of pipelined requests is batched: it stays buffered until the loop next reads, so
 * their responses share a write.
 *
 * Writes never overlap: one batch is in flight at a time, and what is added meanwhile goes
 * into a second buffer. A pooled buffer is given back only once the write that referred to it
 * has settled. (A response streaming the request body back used to flush from two places at
 * once on one buffer, duplicating and dropping bytes.)
 *
 * @module
 */

import {
  CHUNK_DATA_END,
  LAST_CHUNK,
  MAX_CHUNK_SIZE_LINE,
  writeChunkSize,
} from "../http/chunked.ts";
import { statusHasContent } from "../http/content.ts";
import { httpDate } from "../http/date.ts";
import { errorResponse } from "../http/error_response.ts";
import type { RequestHead } from "../http/head.ts";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  type ResponseContext,
  type ResponseHead,
  responseHead,
  writeHead,
} from "../http/response.ts";
import { readResponseParts, type ResponseParts } from "../deno/response_parts.ts";
import { now } from "./clock.ts";
import { DIRECT_WRITE, OutputBuffer } from "./output_buffer.ts";

/** Thrown when the peer has gone or the sweeper closed the socket. */
export class ConnectionGone extends Error {}

/** What the writer needs from its connection. */
export interface WriteHost {
  /** A write to the socket starts, or part of one went out: its deadline (re)starts. */
  writeStarted(): void;
  /** Everything handed to the socket is written. */
  writeEnded(): void;
  /** The current response's head is in the output. */
  headWritten(): void;
  /** The socket is closed (by the sweeper, or the peer's reset was seen). */
  readonly closed: boolean;
  /** The response stream failed: the request's signal aborts. */
  streamFailed(error: unknown): void;
  /** Reports a problem. */
  warn(message: string, error?: unknown): void;
}

/** String bodies up to this length are scanned for ASCII and copied without the encoder op. */
const SMALL_TEXT = 256;
/** Output room taken before writing a head; `writeHead` asks for more when a head needs it. */
const HEAD_ROOM = 1024;
const NO_FIELDS: [string, string][] = [];
const NOT_YET: unique symbol = Symbol("not yet");

/**
 * One connection's response output.
 *
 * @example
 * ```ts ignore
 * const writer = new ResponseWriter(conn, host, "Starlight");
 * writer.begin(head, true);
 * const bytes = writer.writeStatic(new Response("hi"), 200);
 * await writer.flush();
 * ```
 */
export class ResponseWriter {
  /** The output being gathered for the next write. */
  output: OutputBuffer = new OutputBuffer();
  /** Whether the connection may stay open after the current response. */
  keepAlive = false;
  /** The output being written, while a write is in flight; then empty. */
  #spare: OutputBuffer = new OutputBuffer();
  #busy = false;
  /** The reader of a chunked body being streamed, while it is. */
  #stream: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #waiters: (() => void)[] = [];
  readonly #conn: Deno.Conn;
  readonly #host: WriteHost;
  readonly #development: boolean;
  readonly #server: string;
  /** Reused for every response: what `writeHead` needs, and what it and the response tell. */
  readonly #context: ResponseContext;
  readonly #plan: ResponseHead = responseHead();
  readonly #parts: ResponseParts = { fields: [], contentType: null, body: null };

  /** Writes to `conn` for `host`. */
  constructor(conn: Deno.Conn, host: WriteHost, serverSoftware: string, development: boolean) {
    this.#conn = conn;
    this.#host = host;
    this.#server = serverSoftware;
    this.#development = development;
    this.#context = { minor: 1, head: false, keepAlive: false, date: "", server: serverSoftware };
  }

  /** Sets up for the response to `head`. */
  begin(head: RequestHead, keepAlive: boolean): void {
    const context = this.#context;
    context.minor = head.minor;
    context.head = head.method === "HEAD";
    this.keepAlive = keepAlive;
  }

  /** Whether the loop may write the output itself: no write in flight, nothing queued. */
  get ready(): boolean {
    return !this.#busy && this.output.queued.length === 0;
  }

  /**
   * Takes the output for a write the caller makes (the loop, keeping the await in its frame):
   * further output goes into the other buffer until {@link endSend}.
   */
  startSend(): OutputBuffer {
    const sending = this.output;
    this.output = this.#spare;
    this.#spare = sending;
    this.#busy = true;
    this.#host.writeStarted();
    return sending;
  }

  /** The write of `sent` settled: its buffers go back to the pool. */
  endSend(sent: OutputBuffer): void {
    sent.release();
    this.#busy = false;
    this.#host.writeEnded();
    if (this.#waiters.length > 0) { for (const wake of this.#waiters.splice(0)) wake(); }
  }

  /** Writes all of `bytes`, however many writes the socket needs. */
  async writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(written === 0 ? bytes : bytes.subarray(written));
      this.#host.writeStarted();
    }
  }

  /** Writes everything gathered, after any write in flight. */
  async flush(): Promise<void> {
    while (this.#busy) await new Promise<void>((wake) => this.#waiters.push(wake));
    if (!this.output.pending) return;
    const sending = this.startSend();
    try {
      for (const queued of sending.queued) await this.writeAll(queued);
      const length = sending.length;
      if (length > 0) {
        // One write is the rule; only a full socket buffer leaves a rest.
        const n = await this.#conn.write(sending.bytes.subarray(0, length));
        if (n < length) await this.writeAll(sending.bytes.subarray(n, length));
      }
    } catch (error) {
      this.endSend(sending);
      if (this.#host.closed || isDisconnect(error)) throw new ConnectionGone();
      throw error;
    }
    this.endSend(sending);
  }

  /**
   * Everything gathered, in one new array, the output left empty: for a last write the
   * connection does not wait for. Its buffers are not given back, since that write may still
   * refer to them.
   */
  takeAll(): Uint8Array {
    const output = this.output;
    this.output = new OutputBuffer();
    let size = output.length;
    for (const queued of output.queued) size += queued.length;
    const all = new Uint8Array(size);
    let at = 0;
    for (const queued of output.queued) {
      all.set(queued, at);
      at += queued.length;
    }
    all.set(output.bytes.subarray(0, output.length), at);
    return all;
  }

  /** Adds a response the server makes itself (`errorResponse`), after which the connection closes. */
  appendRefusal(status: number, reason: string, minor: number): void {
    this.output.append(errorResponse(status, reason, httpDate(), this.#server, false, minor));
  }

  /** Adds an interim head: `100 Continue`, or `101` with the upgrade's fields. */
  writeInterim(status: number, fields: Iterable<[string, string]>): void {
    const context = this.#context;
    const minor = context.minor;
    // 1xx exist only in HTTP/1.1.
    context.minor = 1;
    this.#write(status, fields, null, -2);
    context.minor = minor;
  }

  /** Writes a final head into the output; returns how to follow it. */
  writeHead(
    status: number,
    fields: Iterable<[string, string]>,
    contentType: string | null,
    bodyLength: number,
  ): ResponseHead {
    this.#context.keepAlive = this.keepAlive;
    this.#context.date = httpDate(now());
    const plan = this.#write(status, fields, contentType, bodyLength);
    this.keepAlive = plan.keepAlive;
    this.#host.headWritten();
    return plan;
  }

  #write(
    status: number,
    fields: Iterable<[string, string]>,
    contentType: string | null,
    bodyLength: number,
  ): ResponseHead {
    const plan = this.#plan;
    const output = this.output;
    output.reserve(HEAD_ROOM);
    while (
      !writeHead(
        output.bytes,
        output.length,
        status,
        fields,
        contentType,
        bodyLength,
        this.#context,
        plan,
      )
    ) {
      output.reserve(output.bytes.length);
    }
    output.length = plan.end;
    return plan;
  }

  /**
   * Writes a response whose body is a string or bytes (or none) without touching its stream.
   * Returns the body bytes written, or -1 when the response has a stream to read.
   */
  writeStatic(response: Response, status: number): number {
    const parts = this.#parts;
    if (!readResponseParts(response, parts)) return -1;
    const body = parts.body;
    let length = -2;
    let text: string | null = null;
    let bytes: Uint8Array | null = null;
    if (body !== null && statusHasContent(status)) {
      if (typeof body !== "string") {
        bytes = body;
        length = body.length;
      } else if (body.length <= SMALL_TEXT && isAscii(body)) {
        text = body;
        length = body.length;
      } else {
        bytes = encodeBody(body);
        length = bytes.length;
      }
    }
    const plan = this.writeHead(status, parts.fields, parts.contentType, length);
    parts.fields = NO_FIELDS;
    parts.body = null;
    if (plan.mode !== BODY_LENGTH) return 0;
    if (text !== null) {
      const output = this.output;
      output.reserve(length);
      const out = output.bytes;
      let o = output.length;
      for (let i = 0; i < length; i++) out[o++] = text.charCodeAt(i);
      output.length = o;
    } else if (bytes !== null) {
      this.output.appendBytes(bytes);
    }
    return length === -2 ? 0 : length;
  }

  /** Writes a response whose body is a stream (or any response, where internals are unknown). */
  /**
   * Ends the chunked response body being streamed as a finished response: the app's stream is
   * cancelled, the last chunk written, and the connection then closes. For a stream that never
   * ends by itself (server-sent events) when its worker must go: the client sees a response that
   * ended, not a cut. False when no chunked body is being streamed.
   */
  endStream(): boolean {
    const stream = this.#stream;
    if (stream === null) return false;
    this.#stream = null;
    this.keepAlive = false;
    stream.cancel().catch(() => {});
    return true;
  }

  async writeStream(response: Response, status: number): Promise<number> {
    const stream = response.body;
    if (stream === null || !statusHasContent(status)) {
      if (stream !== null) stream.cancel().catch(() => {});
      this.writeHead(status, response.headers, null, -2);
      return 0;
    }

    let reader: ReadableStreamDefaultReader<Uint8Array>;
    let first: ReadableStreamReadResult<Uint8Array>;
    try {
      reader = stream.getReader();
      first = await reader.read();
    } catch (error) {
      return this.#writeFailure(error);
    }
    if (first.done) {
      this.writeHead(status, response.headers, null, 0);
      return 0;
    }
    if (!(first.value instanceof Uint8Array)) {
      reader.cancel().catch(() => {});
      return this.#writeFailure(new TypeError("the response body yielded a non-Uint8Array chunk"));
    }
    const next = reader.read();
    const settled = await ifSettled(next);
    if (settled !== NOT_YET && (settled as ReadableStreamReadResult<Uint8Array>).done) {
      const chunk = first.value;
      const plan = this.writeHead(status, response.headers, null, chunk.length);
      if (plan.mode !== BODY_LENGTH) return 0;
      this.output.appendBytes(chunk);
      return chunk.length;
    }

    const plan = this.writeHead(status, response.headers, null, -1);
    if (plan.mode === BODY_NONE) {
      reader.cancel().catch(() => {});
      return 0;
    }
    const chunked = plan.mode === BODY_CHUNKED;
    // A chunked stream can end early as a complete response (see endStream).
    if (chunked) this.#stream = reader;
    const limit = plan.mode === BODY_LENGTH ? plan.contentLength : Infinity;
    let bytes = 0;
    let chunk: Uint8Array = first.value;
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = next;
    try {
      for (;;) {
        if (chunk.length > 0) {
          if (bytes + chunk.length > limit) chunk = chunk.subarray(0, limit - bytes);
          bytes += chunk.length;
          // A full output buffer goes out rather than growing: a long stream costs a write per
          // buffer, not a chain of ever larger copies.
          const framed = chunk.length + (chunked ? MAX_CHUNK_SIZE_LINE + 2 : 0);
          let output = this.output;
          if (output.length > 0 && output.length + framed > output.bytes.length) {
            await this.flush();
            output = this.output;
          }
          if (chunked) {
            output.reserve(MAX_CHUNK_SIZE_LINE);
            output.length = writeChunkSize(output.bytes, output.length, chunk.length);
          }
          output.appendBytes(chunk);
          if (chunked) output.appendBytes(CHUNK_DATA_END);
        }
        if (pending === null) break;
        // Chunks the stream already holds share one write; the moment it has none ready, what
        // is buffered goes out, so a server-sent event is never held back.
        let result = this.output.length >= DIRECT_WRITE || this.output.queued.length > 0
          ? NOT_YET
          : await ifSettled(pending);
        if (result === NOT_YET) {
          await this.flush();
          result = await pending;
        }
        if (result.done) break;
        if (!(result.value instanceof Uint8Array)) {
          throw new TypeError("the response body yielded a non-Uint8Array chunk");
        }
        chunk = result.value;
        pending = bytes < limit ? reader.read() : null;
      }
    } catch (error) {
      this.#stream = null;
      reader.cancel(error).catch(() => {});
      this.#host.streamFailed(error);
      if (!isDisconnect(error) && !(error instanceof ConnectionGone)) {
        this.#host.warn("the response body failed after the response started", error);
      }
      this.keepAlive = false;
      return bytes;
    }
    this.#stream = null;
    if (pending === null) reader.cancel().catch(() => {});
    if (chunked) this.output.appendBytes(LAST_CHUNK);
    if (bytes < limit && limit !== Infinity) {
      this.#host.warn(
        `the response body was shorter than its Content-Length (${bytes} of ${limit})`,
      );
      await this.flush();
      this.keepAlive = false;
    }
    return bytes;
  }

  /** An error before the head went out: a 500 instead, then close. */
  async #writeFailure(error: unknown): Promise<number> {
    this.#host.warn("the response body failed before the response started", error);
    const detail = this.#development && error instanceof Error ? error.stack ?? "" : "";
    this.appendRefusal(500, detail, this.#context.minor);
    this.#host.headWritten();
    await this.flush();
    this.keepAlive = false;
    return 0;
  }
}

/**
 * What `promise` settled with, if it already has; else NOT_YET. `Promise.race([promise,
 * NOT_YET])` without the array and its iteration: the promise's reaction is queued before the
 * one that answers NOT_YET, so a settled promise always wins.
 */
function ifSettled<T>(promise: Promise<T>): Promise<T | typeof NOT_YET> {
  return new Promise((resolve, reject) => {
    promise.then(resolve, reject);
    queueMicrotask(() => resolve(NOT_YET));
  });
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(16 * 1024);

/**
 * UTF-8 of a string body. Small bodies go through one reused scratch buffer (the caller copies
 * them into its output before the next await); large ones get their own array, which the
 * connection writes directly.
 */
function encodeBody(text: string): Uint8Array {
  if (text.length * 3 >= DIRECT_WRITE) return encoder.encode(text);
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return scratch.subarray(0, written);
}

/** Whether every character of `text` is ASCII, so its UTF-8 is one byte per character. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

/**
 * Errors that mean the peer went away or misbehaved, not that something is wrong with the
 * server.
 *
 * @example
 * ```ts
 * import { isDisconnect } from "./response_writer.ts";
 * isDisconnect(new Deno.errors.ConnectionReset("reset")); // true
 * ```
 */
export function isDisconnect(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.UnexpectedEof ||
    // A failed TLS handshake (a scanner, a plain-HTTP client on the TLS port) ends that
    // connection only; it is not worth a warning.
    error instanceof Deno.errors.InvalidData;
}
