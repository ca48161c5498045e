/**
 * One WebSocket connection after the `101`: reads and parses client frames, dispatches
 * messages, answers pings and close frames, watches idleness, and ends the connection with the
 * right close code whatever the peer sends. Never throws: every way of ending is a close event.
 *
 * @module
 */

import { type Incoming, MessageAssembler } from "./assembler.ts";
import { CloseCode, type CloseInfo, encodeClosePayload, ProtocolViolation } from "./close.ts";
import type { DeflateParams } from "./deflate_negotiation.ts";
import { MessageDeflater, MessageInflater } from "./deflate.ts";
import { Opcode } from "./frame.ts";
import { IdleWatch } from "./idle.ts";
import { FrameParser } from "./parser.ts";
import { Sender } from "./sender.ts";
import type { SocketDriver, SocketEnd, SocketTransport } from "./socket.ts";
import { decodeUtf8 } from "./utf8.ts";

/**
 * Past this many bytes waiting in the send queue when `send` is called, the peer is deemed not
 * to read: the connection fails with 1008 (Policy Violation, the peer breaks the server's rule
 * of reading what it is sent; 1011 would blame the server) and the queue is dropped. Memory per
 * connection thus stays under this plus one message.
 */
export const MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;

/** How long, after sending a close frame, the peer has to answer before the TCP connection is cut. */
export const CLOSE_TIMEOUT_MS = 3_000;

/**
 * Reading pauses while more than this waits in the send queue. An app that answers messages
 * (an echo, a chat relay) then slows a fast sender down through TCP instead of queueing replies
 * until {@link MAX_BUFFERED_AMOUNT} fails the connection.
 */
const READ_PAUSE_BYTES = 1024 * 1024;

/** Per-connection read buffer: a middle ground between syscalls per message and idle memory. */
const READ_BUFFER_BYTES = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** What a connection needs to know from the handshake and the options. */
export interface ConnectionOptions {
  /** Largest incoming message, in bytes, compressed and inflated alike. */
  readonly maxMessageSize: number;
  /** Seconds of silence before a ping, then before giving up; 0 disables. */
  readonly idleTimeout: number;
  /** The permessage-deflate parameters, when agreed. */
  readonly deflate: DeflateParams | undefined;
}

/**
 * Runs a connection to its end: settles (never rejects) once the TCP connection is closed and
 * the socket's `close` event has fired.
 *
 * @param conn The connection, just after the `101` head was written; closed on return.
 * @param head Bytes the client sent after its request, already read.
 * @param drain Aborts on graceful shutdown: the connection then closes with 1001.
 * @param driver The socket to drive.
 * @param options Limits and negotiated parameters.
 *
 * @example
 * ```ts ignore
 * import { runConnection } from "./connection.ts";
 * await runConnection(conn, head, signal, driver, {
 *   maxMessageSize: 1 << 20, idleTimeout: 120, deflate: undefined,
 * });
 * ```
 */
export function runConnection(
  conn: Deno.Conn,
  head: Uint8Array,
  drain: AbortSignal,
  driver: SocketDriver,
  options: ConnectionOptions,
): Promise<void> {
  return new Connection(conn, driver, options).run(head, drain);
}

class Connection implements SocketTransport {
  readonly #conn: Deno.Conn;
  readonly #driver: SocketDriver;
  readonly #maxMessageSize: number;
  readonly #parser: FrameParser;
  readonly #assembler: MessageAssembler;
  readonly #inflater: MessageInflater | undefined;
  readonly #deflater: MessageDeflater | undefined;
  readonly #sender: Sender;
  readonly #idle: IdleWatch;
  #closeSent = false;
  #closeReceived: CloseInfo | undefined;
  #failure: CloseInfo | undefined;
  #ioError: string | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #connClosed = false;

  constructor(conn: Deno.Conn, driver: SocketDriver, options: ConnectionOptions) {
    this.#conn = conn;
    this.#driver = driver;
    this.#maxMessageSize = options.maxMessageSize;
    const deflate = options.deflate;
    this.#parser = new FrameParser({
      maxPayload: options.maxMessageSize,
      allowRsv1: deflate !== undefined,
    });
    this.#assembler = new MessageAssembler(options.maxMessageSize);
    this.#inflater = deflate && new MessageInflater(deflate.clientNoContextTakeover);
    this.#deflater = deflate && new MessageDeflater(deflate.serverNoContextTakeover);
    this.#sender = new Sender(conn, this.#deflater, (error) => {
      if (!this.#connClosed) this.#ioError = errorMessage(error);
      this.#shutdown();
    });
    this.#idle = new IdleWatch(
      options.idleTimeout * 1000,
      () => this.#sender.control(Opcode.Ping, EMPTY),
      () => this.#fail(CloseCode.GoingAway, "No response from ping frame."),
    );
  }

  get bufferedAmount(): number {
    return this.#sender.bufferedAmount;
  }

  send(data: Uint8Array | Blob, text: boolean): void {
    if (this.#sender.bufferedAmount > MAX_BUFFERED_AMOUNT) {
      return this.#fail(CloseCode.PolicyViolation, "send buffer overflow: the peer does not read");
    }
    this.#sender.message(data, text);
  }

  close(code: number | undefined, reason: string): void {
    this.#sendClose(code, reason);
  }

  async run(head: Uint8Array, drain: AbortSignal): Promise<void> {
    const onDrain = (): void => this.#sendClose(CloseCode.GoingAway, "server shutting down");
    drain.addEventListener("abort", onDrain, { once: true });
    this.#idle.start();
    try {
      const request = this.#driver.start(this);
      if (request) this.#sendClose(request.code, request.reason);
      if (drain.aborted) onDrain();
      await this.#receive(head);
    } catch (error) {
      // Only a bug of ours lands here; fail this connection rather than leak it.
      console.error("WebSocket connection error:", error);
      this.#fail(CloseCode.InternalError, "internal error");
    }
    // A close frame is owed or on its way: let it out, within the close timeout.
    if (this.#closeSent) await this.#sender.flushed();
    this.#shutdown();
    drain.removeEventListener("abort", onDrain);
    this.#idle.stop();
    clearTimeout(this.#closeTimer);
    this.#inflater?.close();
    this.#deflater?.close();
    this.#driver.closed(this.#end());
  }

  /** Reads until the closing handshake, a failure, or the end of the stream. */
  async #receive(head: Uint8Array): Promise<void> {
    if (head.length > 0 && !await this.#consume(head)) return;
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    while (true) {
      await this.#sender.below(READ_PAUSE_BYTES);
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (error) {
        if (!this.#connClosed) this.#ioError = errorMessage(error);
        return;
      }
      if (n === null) return;
      this.#idle.touch();
      if (!await this.#consume(buffer.subarray(0, n))) return;
    }
  }

  /** Handles received bytes; `false` once nothing more is to be read. */
  async #consume(bytes: Uint8Array): Promise<boolean> {
    this.#parser.push(bytes);
    for (let frame = this.#parser.next(); frame !== null; frame = this.#parser.next()) {
      const incoming = frame instanceof ProtocolViolation ? frame : this.#assembler.accept(frame);
      if (incoming === null) continue;
      if (incoming instanceof ProtocolViolation) {
        this.#fail(incoming.code, incoming.reason);
        return false;
      }
      if (!await this.#handle(incoming) || this.#failure) return false;
    }
    return this.#failure === undefined;
  }

  async #handle(incoming: Incoming): Promise<boolean> {
    switch (incoming.type) {
      case "ping":
        if (!this.#closeSent) this.#sender.control(Opcode.Pong, incoming.payload);
        return true;
      case "pong":
        return true;
      case "close":
        this.#closeReceived = incoming;
        // Echo the code (RFC 6455 §5.5.1); an empty close frame gets an empty one back.
        this.#sendClose(incoming.code === CloseCode.NoStatus ? undefined : incoming.code, "");
        return false;
      case "message":
        return await this.#deliver(incoming.text, incoming.compressed, incoming.payload);
    }
  }

  async #deliver(
    text: boolean,
    compressed: boolean,
    received: Uint8Array<ArrayBuffer>,
  ): Promise<boolean> {
    // Once our close frame is out, messages are dropped (WHATWG); the close is all we await.
    if (this.#closeSent) return true;
    let payload: Uint8Array<ArrayBuffer> | undefined = received;
    if (compressed) {
      try {
        payload = await this.#inflater!.inflate(received, this.#maxMessageSize);
      } catch {
        this.#fail(CloseCode.InvalidPayload, "invalid compressed data");
        return false;
      }
      if (payload === undefined) {
        this.#fail(CloseCode.MessageTooBig, "message too big");
        return false;
      }
    }
    if (!text) {
      this.#driver.message(payload);
      return true;
    }
    const string = decodeUtf8(payload);
    if (string === undefined) {
      this.#fail(CloseCode.InvalidPayload, "text is not UTF-8");
      return false;
    }
    this.#driver.message(string);
    return true;
  }

  #sendClose(code: number | undefined, reason: string): void {
    if (this.#closeSent || this.#connClosed) return;
    this.#closeSent = true;
    this.#idle.stop();
    this.#driver.closing();
    this.#sender.control(Opcode.Close, encodeClosePayload(code, reason));
    this.#closeTimer = setTimeout(() => this.#shutdown(), CLOSE_TIMEOUT_MS);
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): pending output is dropped, a close frame goes out,
   * and the TCP connection is cut without waiting for the peer's answer.
   */
  #fail(code: number, reason: string): void {
    if (this.#failure || this.#connClosed) return;
    this.#failure = { code, reason };
    this.#sender.discard();
    this.#sendClose(code, reason);
    this.#sender.flushed().then(() => this.#shutdown());
  }

  #shutdown(): void {
    if (this.#connClosed) return;
    this.#connClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset or the runtime: nothing left to release.
    }
  }

  #end(): SocketEnd {
    const failure = this.#failure;
    if (failure) return { ...failure, wasClean: false, error: failure.reason };
    const received = this.#closeReceived;
    if (received) return { ...received, wasClean: this.#ioError === undefined };
    return { code: CloseCode.Abnormal, reason: "", wasClean: false, error: this.#ioError };
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
