/**
 * permessage-deflate message transforms (RFC 7692 §7.2) on `CompressionStream` /
 * `DecompressionStream("deflate-raw")`. With context takeover one stream serves every message
 * of the connection, so later messages can refer back to earlier ones.
 *
 * @module
 */

import { concat } from "../http/concat.ts";
import { TransformPump } from "./transform_pump.ts";

/** The empty stored block that ends a sync flush; stripped on the wire (RFC 7692 §7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * Compressed bytes fed to the inflater per step. DEFLATE expands at most ~1032×, so one step
 * yields at most ~8 MiB before the size limit is checked again: a small "zip bomb" message
 * cannot make us allocate gigabytes.
 */
const INFLATE_STEP = 8 * 1024;

/**
 * Below this size, compressor output that ends with {@link TAIL} is a whole sync flush. Deno's
 * compressor (flate2) writes through a 32 KiB buffer and may leave the rest of a flush
 * pending only once that buffer filled; a larger output could end with the tail's bytes by
 * chance (stored data), so it is drained with an empty write to be sure.
 */
const SURE_FLUSH_BYTES = 16 * 1024;

/** Empty writes tried before giving up on a compressor that never completes its flush. */
const MAX_DRAIN_WRITES = 64;

const EMPTY = new Uint8Array(0);

/**
 * Compresses outgoing messages.
 *
 * @example
 * ```ts
 * import { MessageDeflater } from "./deflate.ts";
 * const deflater = new MessageDeflater(false);
 * const payload = await deflater.deflate(new TextEncoder().encode("hello hello hello"));
 * deflater.close();
 * ```
 */
export class MessageDeflater {
  readonly #noContextTakeover: boolean;
  #pump: TransformPump | undefined;

  /**
   * Creates a compressor; its stream is made on first use.
   *
   * @param noContextTakeover Start every message from an empty window.
   */
  constructor(noContextTakeover: boolean) {
    this.#noContextTakeover = noContextTakeover;
  }

  /** Compresses one whole message into the payload of a frame with RSV1 set. */
  async deflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const pump = this.#pump ??= new TransformPump(new CompressionStream("deflate-raw"));
    try {
      const parts = [await pump.push(data)];
      // A large output may stop short of the sync flush: Deno's compressor holds the rest
      // back until its next write. Each empty write releases more, ending in an empty stored
      // block, which is harmless inside the message.
      for (let last = parts[0]; !flushComplete(last);) {
        if (parts.length > MAX_DRAIN_WRITES) throw new Error("deflate output never ended");
        parts.push(last = await pump.push(EMPTY));
      }
      const out = concat(parts, parts.reduce((size, part) => size + part.length, 0));
      return out.subarray(0, out.length - TAIL.length);
    } finally {
      if (this.#noContextTakeover) this.close();
    }
  }

  /** Releases the compressor; a later message starts a new one. */
  close(): void {
    this.#pump?.close();
    this.#pump = undefined;
  }
}

/**
 * Decompresses incoming messages, bounding their inflated size.
 *
 * @example
 * ```ts
 * import { MessageInflater } from "./deflate.ts";
 * const inflater = new MessageInflater(false);
 * const data = await inflater.inflate(new Uint8Array([0x00]), 1024); // an empty message
 * inflater.close();
 * ```
 */
export class MessageInflater {
  readonly #noContextTakeover: boolean;
  #pump: TransformPump | undefined;

  /**
   * Creates a decompressor; its stream is made on first use.
   *
   * @param noContextTakeover The peer starts every message from an empty window.
   */
  constructor(noContextTakeover: boolean) {
    this.#noContextTakeover = noContextTakeover;
  }

  /**
   * Inflates one message payload. Returns `undefined` once the output exceeds `maxSize`;
   * rejects on corrupt data. Either way the connection must end: the stream state is lost.
   */
  async inflate(
    payload: Uint8Array<ArrayBuffer>,
    maxSize: number,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const pump = this.#pump ??= new TransformPump(new DecompressionStream("deflate-raw"));
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let size = 0;
    const add = (out: Uint8Array<ArrayBuffer>): boolean => {
      size += out.length;
      if (out.length > 0) parts.push(out);
      return size <= maxSize;
    };
    try {
      for (let offset = 0; offset < payload.length; offset += INFLATE_STEP) {
        if (!add(await pump.push(payload.subarray(offset, offset + INFLATE_STEP)))) {
          this.close();
          return undefined;
        }
      }
    } catch (error) {
      this.close();
      throw error;
    }
    try {
      // The stripped tail completes the sync flush, releasing output the inflater held back.
      if (!add(await pump.push(TAIL))) {
        this.close();
        return undefined;
      }
    } catch {
      // The message ended with a final (BFINAL) block, which RFC 7692 allows: the stream is
      // over and refuses the tail. The message is complete; the next one needs a new stream.
      this.close();
    }
    if (this.#noContextTakeover) this.close();
    return concat(parts, size);
  }

  /** Releases the decompressor. */
  close(): void {
    this.#pump?.close();
    this.#pump = undefined;
  }
}

/** Whether `last`, the latest compressor output, completes the message's sync flush. */
function flushComplete(last: Uint8Array): boolean {
  return last.length < SURE_FLUSH_BYTES && endsWithTail(last);
}

function endsWithTail(bytes: Uint8Array): boolean {
  const start = bytes.length - TAIL.length;
  return start >= 0 && TAIL.every((byte, i) => bytes[start + i] === byte);
}
