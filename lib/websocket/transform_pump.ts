/**
 * Drives a byte `TransformStream` (`CompressionStream`, `DecompressionStream`) one chunk at a
 * time: write a chunk, get back exactly what that chunk produced. Streams alone cannot say
 * "this write produced nothing", and waiting for a read then hangs.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
const ignore = (): void => {};

/** A byte transform with the `CompressionStream` shape. */
export interface ByteTransform {
  /** Where output appears. */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Where input goes. */
  readonly writable: WritableStream<BufferSource>;
}

/**
 * Feeds a transform chunk by chunk. Relies on Deno's compression transforms emitting, within
 * `write()`, at most one chunk holding everything the input produced (each write flushes).
 *
 * @example
 * ```ts
 * import { TransformPump } from "./transform_pump.ts";
 * const pump = new TransformPump(new CompressionStream("deflate-raw"));
 * const compressed = await pump.push(new TextEncoder().encode("hello"));
 * pump.close();
 * ```
 */
export class TransformPump {
  readonly #writer: WritableStreamDefaultWriter<BufferSource>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;
  #pending: Promise<ReadableStreamReadResult<Uint8Array<ArrayBuffer>>> | undefined;

  /**
   * Takes over a transform.
   *
   * @param transform The stream to drive; the pump takes its writer and reader.
   */
  constructor(transform: ByteTransform) {
    this.#writer = transform.writable.getWriter();
    this.#reader = transform.readable.getReader();
  }

  /**
   * Writes `chunk` and returns the output it produced (possibly empty). Rejects when the
   * transform rejects the input (corrupt compressed data). Calls must not overlap.
   */
  async push(chunk: BufferSource): Promise<Uint8Array<ArrayBuffer>> {
    // A read must be pending before the write: the readable's high-water mark is 0, so without
    // one the write waits on backpressure forever.
    if (!this.#pending) {
      this.#pending = this.#reader.read();
      this.#pending.catch(ignore);
    }
    await this.#writer.write(chunk);
    // The transform enqueued synchronously inside write(), so output, if any, has already
    // settled #pending; an already-settled promise wins a race against a later one.
    const result = await Promise.race([this.#pending, undefined]);
    if (result === undefined) return EMPTY;
    this.#pending = undefined;
    return result.value ?? EMPTY;
  }

  /** Releases the transform; pending or later pushes reject. */
  close(): void {
    this.#writer.abort().catch(ignore);
    this.#reader.cancel().catch(ignore);
  }
}
