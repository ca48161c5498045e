/**
 * The keep-alive loop over one `Deno.Conn`: the only code that reads or writes a socket.
 *
 * Its parts, composed here: the read buffer ({@link ReadBuffer}), the request cycle with the
 * app ({@link Exchange}), the response output ({@link ResponseWriter}), and request bodies'
 * reads (`body_input.ts`). Every protocol decision (keep-alive, framing, `100 Continue`, what
 * to do with an unread body) is a function of `lib/http/`; this file waits, in the loop's own
 * frame, and keeps the deadlines: plain numbers checked by the server's sweeper, so the hot path
 * arms no timers.
 *
 * Deadlines: the first head must be complete within `--header-timeout` of the accept; after a
 * response, `--keepalive-timeout` runs from when it went out to the first byte of the next
 * request (empty lines do not restart it); a head must then be complete within
 * `--header-timeout`. Every read and write may be silent for `--timeout`, and so may the app
 * before its response head (503 beyond); a body also has a minimum rate (`body_input.ts`).
 *
 * @module
 */

import { now } from "./clock.ts";
import { ProtocolError } from "../http/error.ts";
import { checkPartialHead, findHeadEnd, parseHead, type RequestHead } from "../http/head.ts";
import { skipEmptyLines } from "../http/request_framing.ts";
import { abortRequest } from "../app/request.ts";
import { type SocketRead, socketReader } from "../deno/socket_read.ts";
import { type SocketWrite, socketWriter } from "../deno/socket_write.ts";
import type { EngineOptions } from "./config.ts";
import { Exchange, type ExchangeHost, type ExchangeOwner, NEXT, UPGRADED } from "./exchange.ts";
import type { Upgrade } from "./handoff.ts";
import { ReadBuffer } from "./read_buffer.ts";
import { ConnectionGone, isDisconnect, ResponseWriter, type WriteHost } from "./response_writer.ts";

export type { AccessEntry } from "./exchange.ts";

/** What a connection needs from the server that owns it. */
export interface ConnectionOwner extends ExchangeOwner {
  /** Set once the server drains: finish the request in flight, then close. */
  readonly draining: boolean;
  /** Aborts when the server drains (given to upgraded protocols). */
  readonly drainSignal: AbortSignal;
  /** Called once the connection is finished, or abandoned while its app still runs. */
  closed(connection: Connection): void;
}

/** Waiting for the next request after a response. */
const IDLE = 0;
/** Waiting for (the rest of) a request head. */
const HEAD = 1;
/** Time a stream ended at the graceful timeout has to write its last bytes (ms). */
const STREAM_END_GRACE = 1000;
/** A request is being answered: the app runs, its body is read, its response written. */
const APP = 2;
const DONE = 3;

/** One client connection and its loop. */
export class Connection implements WriteHost, ExchangeHost {
  /** When the sweeper should call {@link expire} (ms since epoch); 0 = no deadline. */
  deadline = 0;
  /** The loop's phase, for the sweeper and for draining. */
  phase = IDLE;
  /** Whether the sweeper's "is the client still there" read may be started now. */
  watchable = false;
  /** Its place in its server's list of connections (the server's bookkeeping). */
  index = -1;
  /** The bytes read and not yet taken. */
  readonly reads: ReadBuffer = new ReadBuffer();
  /** The response output. */
  readonly writer: ResponseWriter;

  readonly #conn: Deno.Conn;
  readonly #read: SocketRead;
  readonly #write: SocketWrite;
  readonly #owner: ConnectionOwner;
  readonly #options: EngineOptions;
  /** The request being answered. */
  readonly #exchange: Exchange;
  /** When the head being received must be complete; 0 until its first byte. */
  #headDeadline = 0;
  /** When an idle connection closes: `--keepalive-timeout` after its last response went out. */
  #idleDeadline = 0;
  /** When the app must have started its response; 0 once it has. */
  #appDeadline = 0;
  /** When the body read in flight must end; 0 when none is. */
  #bodyDeadline = 0;
  /** When the write in flight must progress; 0 when none is. */
  #writeDeadline = 0;
  #eof = false;
  #closed = false;
  #pendingRead: Promise<void> | null = null;

  /** Wraps `conn`; `scheme` is `http` or `https`. */
  constructor(conn: Deno.Conn, owner: ConnectionOwner, scheme: string) {
    this.#conn = conn;
    this.#read = socketReader(conn);
    this.#write = socketWriter(conn);
    this.#owner = owner;
    const options = this.#options = owner.options;
    const local = conn.localAddr;
    const localHost = local.transport === "tcp" || local.transport === "udp"
      ? (local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname) + ":" + local.port
      : "localhost";
    const writer = this.writer = new ResponseWriter(
      conn,
      this,
      options.serverSoftware,
      options.development,
    );
    const remote = conn.remoteAddr as Deno.NetAddr | Deno.UnixAddr;
    this.#exchange = new Exchange(this, owner, writer, remote, scheme, localHost);
  }

  /** Serves requests until the peer leaves, an error, a limit, or draining ends it. */
  async run(): Promise<void> {
    let handedOver = false;
    try {
      this.#headDeadline = this.deadline = now() + this.#options.headerTimeout;
      for (;;) {
        // The common case awaits nothing but the socket, in this frame: a head already buffered
        // is parsed at once, a response the app returns synchronously is written synchronously,
        // and the write and read between requests are awaited here rather than in `fillBuffer`
        // and the writer's `flush`, because each async call on the way costs more than the rest
        // of the request (0.7 µs of 3.6 measured under wrk).
        let head = this.#nextHead();
        while (head === null) {
          if (this.phase === IDLE && this.#owner.draining) break;
          const writer = this.writer;
          if (this.#pendingRead !== null || !writer.ready) {
            if (!(await this.fillBuffer())) break;
          } else {
            const length = writer.output.length;
            if (length > 0) {
              const sending = writer.startSend();
              try {
                const n = await this.#write(sending.bytes.subarray(0, length));
                if (n < length) await writer.writeAll(sending.bytes.subarray(n, length));
              } catch (error) {
                writer.endSend(sending);
                throw error;
              }
              writer.endSend(sending);
            }
            if (this.#eof || this.#closed) break;
            const reads = this.reads;
            reads.ensureSpace();
            let n: number;
            try {
              n = await this.#read(reads.view());
            } catch (error) {
              n = this.#readFailed(error);
            }
            if (!this.#received(n)) break;
          }
          head = this.#nextHead();
        }
        if (head === null) break;
        if (head instanceof ProtocolError) {
          await this.#exchange.refuse(head);
          break;
        }
        let verdict = this.#exchange.serve(head);
        if (typeof verdict !== "number") verdict = await verdict;
        if (verdict === UPGRADED) {
          handedOver = true;
          break;
        }
        if (verdict !== NEXT) break;
      }
      if (this.writer.output.pending && !this.#closed) await this.writer.flush();
    } catch (error) {
      if (!(error instanceof ConnectionGone) && !isDisconnect(error)) {
        this.#owner.warn("connection failed", error);
      }
    } finally {
      this.phase = DONE;
      this.deadline = 0;
      if (!handedOver) this.#close();
      this.#exchange.settleCompletions();
      this.#owner.closed(this);
    }
  }

  /**
   * Used when draining: a connection between requests closes now; one that has not sent a byte
   * of its request yet closes `grace` ms from now unless the bytes come. A client's fetch pool
   * may open a connection it never uses, and draining must not wait a header timeout for it;
   * but a connection accepted a moment ago may have its request on the way.
   */
  closeIfIdle(grace: number): void {
    if (this.phase === IDLE) this.#close();
    else if (this.phase === HEAD && this.reads.buffered === 0) {
      this.deadline = Math.min(this.deadline, now() + grace);
    }
  }

  /**
   * At the graceful timeout: a chunked response being streamed ends as a finished response
   * (its last chunk, then the close) instead of being cut; it gets one more second to flush.
   * False when there is no such stream (the caller cuts the connection).
   */
  finishStream(): boolean {
    if (this.#closed || !this.writer.endStream()) return false;
    this.deadline = now() + STREAM_END_GRACE;
    return true;
  }

  /**
   * Called by the sweeper when the deadline passed: a head that stalled gets 408, an app that
   * did not start its response in time 503 (and its request's signal aborts); then the
   * connection closes, at once, even while the app still runs.
   */
  expire(): void {
    if (this.#closed) return;
    const write = this.#writeDeadline;
    if (
      this.phase === APP && this.#appDeadline === 0 && this.#bodyDeadline === 0 &&
      (write === 0 || write > now())
    ) {
      // The app met the deadline the sweeper saw: writing its head does not re-arm the
      // deadline, to keep the common path short.
      this.deadline = write;
      return;
    }
    if (write === 0) {
      if (this.phase === HEAD && this.reads.buffered > 0) {
        this.#lastWords(408, "");
      } else if (this.phase === APP && this.#appDeadline !== 0 && this.#bodyDeadline === 0) {
        this.#lastWords(503, "the app did not answer in time");
        const request = this.#exchange.request;
        if (request !== null) {
          abortRequest(
            request,
            new DOMException("the app did not answer within --timeout", "TimeoutError"),
          );
        }
      }
    }
    this.#abandon();
  }

  /**
   * Starts a read while the app is working, so a client that hangs up aborts `request.signal`
   * (and closes the connection, if the app has not started its response). Called by the sweeper
   * for requests that take more than a tick.
   */
  watch(): void {
    if (!this.watchable || this.#pendingRead !== null || this.#closed) return;
    this.watchable = false;
    const reads = this.reads;
    reads.ensureSpace();
    const pending: Promise<void> = this.#read(reads.view()).then(
      (n) => {
        if (this.#pendingRead === pending) this.#pendingRead = null;
        if (n === 0) return this.#peerGone();
        reads.end += n;
        // Pipelined requests: go on watching while what they bring stays small.
        if (this.#appDeadline !== 0 && reads.buffered < this.#options.limits.maxHeaderBytes) {
          this.watchable = true;
        }
      },
      () => {
        if (this.#pendingRead === pending) this.#pendingRead = null;
        this.#peerGone();
      },
    );
    this.#pendingRead = pending;
  }

  // -----------------------------------------------------------------------------------------
  // The loop's parts

  /**
   * The next request head from what is buffered (or the error to refuse it with). When more
   * bytes are needed it returns null, having set the phase and deadline for the wait.
   */
  #nextHead(): RequestHead | ProtocolError | null {
    const reads = this.reads;
    const buf = reads.bytes;
    const end = reads.end;
    const start = skipEmptyLines(buf, reads.start, end);
    reads.start = start;
    const options = this.#options;
    if (start < end) {
      if (this.#headDeadline === 0) this.#headDeadline = now() + options.headerTimeout;
      // The first look parses outright; a head that came in pieces is parsed once its end is
      // here, so a slow one is not parsed again on every read.
      if (reads.scanFrom < 0 || findHeadEnd(buf, start, reads.scanFrom, end) > 0) {
        // A read in flight may be writing past `end`, where the parser puts its stop byte.
        const head = parseHead(
          this.#pendingRead === null ? buf : buf.subarray(0, end),
          start,
          end,
          options.limits,
          this.#exchange.head,
        );
        if (head !== null) {
          reads.scanFrom = -1;
          this.#headDeadline = 0;
          if (!(head instanceof ProtocolError)) reads.start = start + head.size;
          return head;
        }
      }
      const tooBig = checkPartialHead(buf, start, end, options.limits);
      if (tooBig !== null) return tooBig;
      reads.scanFrom = Math.max(start, end - 3);
      this.phase = HEAD;
    } else if (this.#exchange.served === 0) {
      this.phase = HEAD;
    } else {
      reads.shrinkIfEmpty();
      // Entering the wait starts its clock; empty lines received while waiting do not.
      if (this.phase !== IDLE) {
        this.phase = IDLE;
        this.#idleDeadline = now() + options.keepaliveTimeout;
      }
    }
    this.#armDeadline();
    return null;
  }

  /** Sets the deadline the sweeper checks: the phase's own, or the write's if sooner. */
  #armDeadline(): void {
    let deadline: number;
    switch (this.phase) {
      case IDLE:
        // The keep-alive time counts from when the last response went out.
        deadline = this.#writeDeadline !== 0 ? 0 : this.#idleDeadline;
        break;
      case HEAD:
        deadline = Math.min(this.#headDeadline, now() + this.#options.timeout);
        break;
      case APP:
        deadline = this.#bodyDeadline !== 0 ? this.#bodyDeadline : this.#appDeadline;
        break;
      default:
        deadline = 0;
    }
    const write = this.#writeDeadline;
    this.deadline = write !== 0 && (deadline === 0 || write < deadline) ? write : deadline;
  }

  /** Writes the `101` and hands the connection to the protocol it switches to. */
  async upgrade(upgrade: Upgrade): Promise<number> {
    this.writer.writeInterim(101, upgrade.headers);
    this.#appDeadline = 0;
    this.#armDeadline();
    await this.writer.flush();
    if (this.#pendingRead !== null) await this.#pendingRead;
    const rest = this.reads.takeAll();
    const owner = this.#owner;
    await upgrade.run(this.#conn, rest, owner.drainSignal).catch((error) =>
      owner.warn("upgraded connection failed", error)
    );
    return UPGRADED;
  }

  /** Adds a last response of the server's own and writes everything, without waiting. */
  #lastWords(status: number, reason: string): void {
    const writer = this.writer;
    writer.appendRefusal(status, reason, this.#exchange.minor);
    this.#conn.write(writer.takeAll()).catch(() => {});
  }

  /** Closes the socket now and lets the server forget this connection, the app running or not. */
  #abandon(): void {
    this.#close();
    this.phase = DONE;
    this.deadline = 0;
    this.watchable = false;
    this.#owner.closed(this);
  }

  #peerGone(): void {
    this.#eof = true;
    const request = this.#exchange.request;
    if (request === null) return;
    abortRequest(request, new DOMException("client disconnected", "AbortError"));
    // Nobody will read an answer the app has not started: the socket is not held until it does.
    if (this.phase === APP && this.#appDeadline !== 0 && this.#bodyDeadline === 0) {
      this.#abandon();
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset; nothing left to release.
    }
  }

  /** A failed read: 0 (the end) when the peer or the sweeper ended the connection. */
  #readFailed(error: unknown): number {
    if (this.#closed || isDisconnect(error)) return 0;
    throw error;
  }

  /** Takes a read's result; false at end of stream. */
  #received(n: number): boolean {
    if (n === 0) {
      this.#eof = true;
      return false;
    }
    this.reads.end += n;
    return true;
  }

  // -----------------------------------------------------------------------------------------
  // For the exchange and its body input (ExchangeHost)

  /** The client's side of the stream has ended. */
  get eof(): boolean {
    return this.#eof;
  }

  /** The app is called now: its time to answer starts. */
  appStarted(): void {
    this.phase = APP;
    const deadline = this.#appDeadline = now() + this.#options.timeout;
    const write = this.#writeDeadline;
    this.deadline = write !== 0 && write < deadline ? write : deadline;
  }

  /** No read in flight and the stream open: a body may read straight into its own array. */
  get canReadDirect(): boolean {
    return this.#pendingRead === null && !this.#eof && !this.#closed;
  }

  /** Writes what is pending, then reads more into the buffer; false at end of stream. */
  async fillBuffer(): Promise<boolean> {
    if (this.writer.output.pending) await this.writer.flush();
    if (this.#pendingRead !== null) {
      const pending = this.#pendingRead;
      await pending;
      if (this.#pendingRead === pending) this.#pendingRead = null;
      if (this.#eof) return false;
      if (this.reads.buffered > 0) return true;
    }
    if (this.#eof || this.#closed) return false;
    const reads = this.reads;
    reads.ensureSpace();
    let n: number;
    try {
      n = await this.#read(reads.view());
    } catch (error) {
      n = this.#readFailed(error);
    }
    return this.#received(n);
  }

  /** Writes what is pending, then reads body bytes straight into `into`; 0 at end of stream. */
  async readDirect(into: Uint8Array): Promise<number> {
    await this.writer.flush();
    try {
      const n = await this.#read(into);
      if (n === 0) this.#eof = true;
      return n;
    } catch (error) {
      if (this.#closed || isDisconnect(error)) {
        this.#eof = true;
        return 0;
      }
      throw error;
    }
  }

  /** A body read starts, to end by `deadline`; 0: it ended, and the app's own time starts over. */
  bodyWait(deadline: number): void {
    this.#bodyDeadline = deadline;
    if (deadline === 0 && this.#appDeadline !== 0) {
      this.#appDeadline = now() + this.#options.timeout;
    }
    this.#armDeadline();
  }

  /** The client left inside the body: the request's signal aborts. */
  lostClient(reason: TypeError): void {
    const request = this.#exchange.request;
    if (request !== null) abortRequest(request, reason);
  }

  /** The whole body is read: from now on a hang-up can be noticed. */
  bodyFinished(): void {
    if (this.#exchange.request !== null) this.watchable = true;
  }

  // -----------------------------------------------------------------------------------------
  // For the writer (WriteHost)

  /** Whether the socket is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A write starts, or part of one went out: the rest must follow within `--timeout`. */
  writeStarted(): void {
    this.#writeDeadline = now() + this.#options.timeout;
    this.#armDeadline();
  }

  /** Everything handed to the socket is written; an idle connection's keep-alive time starts. */
  writeEnded(): void {
    this.#writeDeadline = 0;
    if (this.phase === IDLE) this.#idleDeadline = now() + this.#options.keepaliveTimeout;
    this.#armDeadline();
    this.#exchange.settleCompletions();
  }

  /** The response head is written: the app answered in time. */
  headWritten(): void {
    this.#appDeadline = 0;
  }

  /** The response stream failed: the request's signal aborts. */
  streamFailed(error: unknown): void {
    const request = this.#exchange.request;
    if (request !== null) abortRequest(request, error);
  }

  /** Reports a problem to the server. */
  warn(message: string, error?: unknown): void {
    this.#owner.warn(message, error);
  }
}
