/**
 * The outgoing side of a connection: one FIFO queue of messages and control frames, written in
 * order by a single writer, compressing what is worth it, and counting `bufferedAmount`.
 *
 * @module
 */

import { concat } from "../http/concat.ts";
import type { MessageDeflater } from "./deflate.ts";
import { encodeFrame, Opcode } from "./frame.ts";

/** Where frames go: `Deno.Conn` in production. */
export interface ByteSink {
  /** Writes some of `bytes`, returning how many; may write fewer than given. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Messages below this size go uncompressed: deflate's framing costs more than it saves. */
export const COMPRESSION_THRESHOLD = 1024;

/** Frames queued together are coalesced into writes of about this size: fewer syscalls. */
const BATCH_BYTES = 64 * 1024;

type Outgoing =
  | {
    readonly opcode: Opcode;
    /** The whole frame, encoded when queued. */
    readonly frame: Uint8Array<ArrayBuffer>;
    readonly size: number;
  }
  | {
    readonly opcode: typeof Opcode.Text | typeof Opcode.Binary;
    /** A payload encoded when its turn comes: a Blob, or a message to compress. */
    readonly data: Uint8Array<ArrayBuffer> | Blob;
    readonly size: number;
  };

/**
 * Serializes writes to a sink. A failed write stops it for good and is reported once through
 * `onError`; everything still queued is then dropped.
 *
 * @example
 * ```ts
 * import { Sender } from "./sender.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = { write: (b: Uint8Array) => Promise.resolve((chunks.push(b.slice()), b.length)) };
 * const sender = new Sender(sink, undefined, console.error);
 * sender.message(new TextEncoder().encode("hi"), true);
 * await sender.flushed(); // chunks: [0x81 0x02 "hi"]
 * ```
 */
export class Sender {
  readonly #sink: ByteSink;
  readonly #deflater: MessageDeflater | undefined;
  readonly #onError: (error: unknown) => void;
  #queue: Outgoing[] = [];
  #bufferedAmount = 0;
  #writing = false;
  #broken = false;
  #flushWaiters: (() => void)[] = [];
  #roomWaiters: { readonly limit: number; readonly resolve: () => void }[] = [];

  /**
   * Creates an idle sender.
   *
   * @param sink Where frames are written.
   * @param deflater Compresses messages when permessage-deflate was agreed.
   * @param onError Called once when a write fails.
   */
  constructor(
    sink: ByteSink,
    deflater: MessageDeflater | undefined,
    onError: (error: unknown) => void,
  ) {
    this.#sink = sink;
    this.#deflater = deflater;
    this.#onError = onError;
  }

  /** Message bytes queued or being written (before compression). */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** Queues a data message; `data` may be the caller's buffer, as it is copied at once. */
  message(data: Uint8Array | Blob, text: boolean): void {
    if (this.#broken) return;
    const opcode = text ? Opcode.Text : Opcode.Binary;
    const size = data instanceof Blob ? data.size : data.length;
    this.#bufferedAmount += size;
    if (data instanceof Blob) this.#queue.push({ opcode, data, size });
    else if (this.#compresses(size)) this.#queue.push({ opcode, data: data.slice(), size });
    // Encoding now copies the data once, into the frame that is written as is.
    else this.#queue.push({ opcode, frame: encodeFrame({ opcode, payload: data }), size });
    this.#pump();
  }

  /** Queues a control frame behind what is already queued. */
  control(
    opcode: typeof Opcode.Close | typeof Opcode.Ping | typeof Opcode.Pong,
    payload: Uint8Array,
  ): void {
    if (this.#broken) return;
    this.#queue.push({ opcode, frame: encodeFrame({ opcode, payload }), size: 0 });
    this.#pump();
  }

  /**
   * Drops the messages queued and not yet being written: the peer is not going to get them.
   * Control frames stay, a close frame above all.
   */
  discard(): void {
    const kept: Outgoing[] = [];
    for (const item of this.#queue) {
      if (isData(item.opcode)) this.#bufferedAmount -= item.size;
      else kept.push(item);
    }
    this.#queue = kept;
    this.#wakeRoomWaiters();
  }

  /** Settles once `bufferedAmount` is at most `limit`, or writing has failed. */
  below(limit: number): Promise<void> {
    if (this.#broken || this.#bufferedAmount <= limit) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push({ limit, resolve }));
  }

  /** Settles once everything queued so far is written, or writing has failed. */
  flushed(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const frames: Uint8Array<ArrayBuffer>[] = [];
        let bytes = 0;
        let written = 0;
        while (this.#queue.length > 0 && bytes < BATCH_BYTES) {
          const item = this.#queue.shift()!;
          const frame = await this.#encode(item);
          frames.push(frame);
          bytes += frame.length;
          written += item.size;
        }
        await writeAll(this.#sink, concat(frames, bytes));
        this.#bufferedAmount -= written;
        this.#wakeRoomWaiters();
      }
    } catch (error) {
      this.#broken = true;
      this.discard();
      this.#queue = [];
      this.#onError(error);
    } finally {
      this.#writing = false;
      for (const resolve of this.#flushWaiters.splice(0)) resolve();
    }
  }

  #wakeRoomWaiters(): void {
    this.#roomWaiters = this.#roomWaiters.filter((waiter) => {
      const wake = this.#broken || this.#bufferedAmount <= waiter.limit;
      if (wake) waiter.resolve();
      return !wake;
    });
  }

  #compresses(size: number): boolean {
    return this.#deflater !== undefined && size >= COMPRESSION_THRESHOLD;
  }

  async #encode(item: Outgoing): Promise<Uint8Array<ArrayBuffer>> {
    if ("frame" in item) return item.frame;
    const payload = item.data instanceof Blob
      ? new Uint8Array(await item.data.arrayBuffer())
      : item.data;
    const compress = this.#compresses(item.size);
    return encodeFrame({
      opcode: item.opcode,
      rsv1: compress,
      payload: compress ? await this.#deflater!.deflate(payload) : payload,
    });
  }
}

function isData(opcode: Opcode): boolean {
  return opcode === Opcode.Text || opcode === Opcode.Binary;
}

async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await sink.write(bytes.subarray(offset));
  }
}
