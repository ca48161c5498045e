/**
 * The keep-alive loop over one `Deno.Conn`: the only code that reads or writes a socket.
 *
 * It reads into one reused buffer, feeds the sans-IO parsers, calls the app, and writes each
 * response with as few `write` calls as it can (responses to pipelined requests are batched).
 * Deadlines are plain numbers checked by the server's sweeper, so the hot path arms no timers.
 *
 * @module
 */

import { now } from "./clock.ts";
import { MAX_CHUNK_SIZE_LINE, writeChunkSize } from "../http/chunked.ts";
import { httpDate } from "../http/date.ts";
import { ProtocolError } from "../http/error.ts";
import { errorResponse } from "../http/error_response.ts";
import {
  checkPartialHead,
  findHeadEnd,
  type HeadLimits,
  parseHead,
  type RequestHead,
} from "../http/head.ts";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  type ResponseContext,
  type ResponseHead,
  responseHead,
  writeHead,
} from "../http/response.ts";
import { statusLine } from "../http/status.ts";
import type { Handler, ServeHandlerInfo } from "../app/contract.ts";
import { abortRequest, createRequest, type RequestState } from "../app/request.ts";
import { type BodyInput, RequestBodyReader } from "./request_body.ts";
import { readResponseParts, type ResponseParts } from "../deno/response_parts.ts";
import { type SocketRead, socketReader } from "../deno/socket_read.ts";
import { DIRECT_WRITE, OutputBuffer } from "./output_buffer.ts";
import { type Upgrade, upgradeKey } from "./handoff.ts";

/** Everything the loop needs to know about its server, fixed for the server's life. */
export interface EngineOptions {
  /** The app. */
  readonly handler: Handler;
  /** Idle limit for every read and write, in ms. */
  readonly timeout: number;
  /** Total limit for receiving a request head, in ms (slowloris defence). */
  readonly headerTimeout: number;
  /** Idle limit between requests on a persistent connection, in ms. */
  readonly keepaliveTimeout: number;
  /** Requests per connection; 0 = unlimited. */
  readonly maxKeepaliveRequests: number;
  /** Largest request body in bytes; 0 = unlimited. */
  readonly maxRequestBody: number;
  /** `Server` header value; `""` for none. */
  readonly serverSoftware: string;
  /** Show error details (stack traces) in 500 responses. */
  readonly development: boolean;
  /** Request head limits. */
  readonly limits: HeadLimits;
}

/** One line of the access log, handed to the server's hook after each response. */
export interface AccessEntry {
  /** Client address (`-` for UNIX sockets). */
  remote: string;
  /** Request line as received. */
  requestLine: string;
  /** Response status. */
  status: number;
  /** Body bytes written. */
  bytes: number;
  /** `Referer` header or `-`. */
  referer: string;
  /** `User-Agent` header or `-`. */
  userAgent: string;
  /** When the request head was complete (ms since epoch). */
  time: number;
}

/** What a connection needs from the server that owns it. */
export interface ConnectionOwner {
  /** The options. */
  readonly options: EngineOptions;
  /** Set once the server drains: finish the request in flight, then close. */
  readonly draining: boolean;
  /** Set once the worker is draining or has reached its request limit: close after each response. */
  readonly winding: boolean;
  /** Aborts when the server drains (given to upgraded protocols). */
  readonly drainSignal: AbortSignal;
  /** Counts a request; false when it is the last one the worker may serve. */
  requestStarted(): boolean;
  /** Called after each response when an access log is kept. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  /** Reports a problem worth an operator's attention. */
  warn(message: string, error?: unknown): void;
  /** Called once the connection is finished. */
  closed(connection: Connection): void;
}

const IDLE = 0;
const HEAD = 1;
const APP = 2;
const BODY = 3;
const WRITE = 4;
const DONE = 5;

/** What `#serve` tells the loop once a response is done. */
const NEXT = 0;
const CLOSE = 1;
const UPGRADED = 2;

const CR = 13;
const LF = 10;
/** Read buffer of a new connection: a request head is rarely larger; it grows when one is. */
const INITIAL_BUFFER = 2 * 1024;
const MIN_READ = 1024;
/** A read buffer grown past this is dropped when its connection goes idle. */
const KEPT_BUFFER = 16 * 1024;
/** String bodies up to this length are scanned for ASCII and copied without the encoder op. */
const SMALL_TEXT = 256;
/** Output room taken before writing a head; `writeHead` asks for more when a head needs it. */
const HEAD_ROOM = 1024;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const CHUNK_END = new TextEncoder().encode("0\r\n\r\n");
const CRLF = new Uint8Array([CR, LF]);

/** Thrown when the peer has gone or the sweeper closed the socket. */
class ConnectionGone extends Error {}

/** One client connection and its loop. */
export class Connection {
  /** When the sweeper should close this connection (ms since epoch); 0 = no deadline. */
  deadline = 0;
  /** The loop's phase, for the sweeper and for draining. */
  phase = IDLE;
  /** Whether the sweeper's "is the client still there" read may be started now. */
  watchable = false;
  /** Its place in its server's list of connections (the server's bookkeeping). */
  index = -1;

  readonly #conn: Deno.Conn;
  readonly #read: SocketRead;
  /** What the request bodies of this connection read it through, made for the first body. */
  #input: BodyInput | null = null;
  readonly #owner: ConnectionOwner;
  readonly #options: EngineOptions;
  readonly #scheme: string;
  readonly #localHost: string;
  readonly #remote: Deno.NetAddr | Deno.UnixAddr;
  #buf = new Uint8Array(INITIAL_BUFFER);
  /** `#buf` but its stop byte, the view most reads fill (kept: a view is an allocation). */
  #whole: Uint8Array | null = null;
  #start = 0;
  #end = 0;
  /** Where a scan for the end of a partly received head resumes; -1 before the first try. */
  #scanFrom = -1;
  /** When the head being received must be complete; 0 until its first byte. */
  #headDeadline = 0;
  /** What is waiting to be written. */
  readonly #output = new OutputBuffer();
  #eof = false;
  #closed = false;
  #requests = 0;
  #pendingRead: Promise<void> | null = null;
  #request: RequestState | null = null;
  readonly #completions: (() => void)[] = [];
  /** The request being answered, its body, and whether the connection may stay open after it. */
  #head: RequestHead | null = null;
  #body: RequestBodyReader | null = null;
  #keepAlive = false;
  #started = 0;
  /** Reused for every response: what `writeHead` needs, and what it and the response tell. */
  readonly #context: ResponseContext;
  readonly #plan: ResponseHead = responseHead();
  readonly #parts: ResponseParts = { fields: [], contentType: null, body: null };

  /** Wraps `conn`; `scheme` is `http` or `https`. */
  constructor(conn: Deno.Conn, owner: ConnectionOwner, scheme: string) {
    this.#conn = conn;
    this.#read = socketReader(conn);
    this.#owner = owner;
    this.#options = owner.options;
    this.#scheme = scheme;
    this.#remote = conn.remoteAddr as Deno.NetAddr | Deno.UnixAddr;
    const local = conn.localAddr;
    this.#localHost = local.transport === "tcp" || local.transport === "udp"
      ? (local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname) + ":" + local.port
      : "localhost";
    this.#context = {
      minor: 1,
      head: false,
      keepAlive: false,
      date: "",
      server: this.#options.serverSoftware,
    };
  }

  /** Serves requests until the peer leaves, an error, a limit, or draining ends it. */
  async run(): Promise<void> {
    let handedOver = false;
    try {
      this.#headDeadline = this.deadline = now() + this.#options.headerTimeout;
      for (;;) {
        // The common case awaits nothing but the socket, in this frame: a head already buffered
        // is parsed at once, a response the app returns synchronously is written synchronously,
        // and the write and read between requests are awaited here rather than in `#fill` and
        // `#flush`, because each async call on the way costs more than the rest of the request
        // (0.7 µs of 3.6 measured under wrk).
        let head = this.#nextHead();
        while (head === null) {
          if (this.phase === IDLE && this.#owner.draining) break;
          const output = this.#output;
          if (this.#pendingRead !== null || output.queued.length > 0) {
            if (!(await this.#fill())) break;
          } else {
            const length = output.length;
            if (length > 0) {
              const phase = this.#beginWrite();
              const n = await this.#conn.write(output.bytes.subarray(0, length));
              if (n < length) await this.#writeAll(output.bytes.subarray(n, length));
              this.#endWrite(phase);
            }
            if (this.#eof || this.#closed) break;
            this.#ensureSpace();
            let n: number;
            try {
              n = await this.#read(this.#readView());
            } catch (error) {
              n = this.#readFailed(error);
            }
            if (!this.#received(n)) break;
          }
          head = this.#nextHead();
        }
        if (head === null) break;
        if (head instanceof ProtocolError) {
          await this.#refuse(head);
          break;
        }
        let verdict = this.#serve(head);
        if (typeof verdict !== "number") verdict = await verdict;
        if (verdict === UPGRADED) {
          handedOver = true;
          break;
        }
        if (verdict === CLOSE) break;
      }
      if (this.#output.pending) await this.#flush();
    } catch (error) {
      if (!(error instanceof ConnectionGone) && !isDisconnect(error)) {
        this.#owner.warn("connection failed", error);
      }
    } finally {
      this.phase = DONE;
      this.deadline = 0;
      if (!handedOver) this.#close();
      this.#settleCompletions();
      this.#owner.closed(this);
    }
  }

  /** Closes the connection now if it is waiting for a next request (used when draining). */
  closeIfIdle(): void {
    if (this.phase === IDLE) this.#close();
  }

  /** Called by the sweeper when the deadline passed. */
  expire(): void {
    if (this.phase === HEAD && this.#end > this.#start) {
      const text = errorResponse(408, "", httpDate(), this.#options.serverSoftware);
      this.#conn.write(new TextEncoder().encode(text)).catch(() => {});
    }
    this.#close();
  }

  /**
   * Starts a read while the app is working, so a client that hangs up aborts `request.signal`.
   * Called by the sweeper for requests that take more than a tick.
   */
  watch(): void {
    if (!this.watchable || this.#pendingRead !== null || this.#closed) return;
    this.watchable = false;
    this.#ensureSpace();
    this.#pendingRead = this.#read(this.#readView()).then(
      (n) => {
        if (n === 0) this.#peerGone();
        else this.#end += n;
      },
      () => this.#peerGone(),
    );
  }

  #peerGone(): void {
    this.#eof = true;
    if (this.#request !== null) {
      abortRequest(this.#request, new DOMException("client disconnected", "AbortError"));
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

  /**
   * Makes room for a read of at least MIN_READ bytes at `#end`, keeping the last byte of the
   * buffer free for the parser's stop byte.
   */
  #ensureSpace(): void {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      return;
    }
    if (this.#buf.length - this.#end > MIN_READ) return;
    const used = this.#end - this.#start;
    if (this.#start > 0 && this.#buf.length - used > MIN_READ) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, used + MIN_READ + 1));
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
      this.#whole = null;
    }
    if (this.#scanFrom >= 0) this.#scanFrom -= this.#start;
    this.#start = 0;
    this.#end = used;
  }

  /** Where the next read goes: the buffer's free space, less the parser's stop byte. */
  #readView(): Uint8Array {
    if (this.#end === 0) return this.#whole ??= this.#buf.subarray(0, this.#buf.length - 1);
    return this.#buf.subarray(this.#end, this.#buf.length - 1);
  }

  /** Reads more bytes into the buffer, writing what is buffered first; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#output.pending) await this.#flush();
    if (this.#pendingRead !== null) {
      const pending = this.#pendingRead;
      await pending;
      if (this.#pendingRead === pending) this.#pendingRead = null;
      if (this.#eof) return false;
      if (this.#end > this.#start) return true;
    }
    if (this.#eof || this.#closed) return false;
    this.#ensureSpace();
    let n: number;
    try {
      n = await this.#read(this.#readView());
    } catch (error) {
      n = this.#readFailed(error);
    }
    return this.#received(n);
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
    this.#end += n;
    return true;
  }

  /**
   * The next request head from what is buffered (or the error to refuse it with). When more
   * bytes are needed it returns null, having set the phase and deadline for the wait.
   */
  #nextHead(): RequestHead | ProtocolError | null {
    const buf = this.#buf;
    const end = this.#end;
    let start = this.#start;
    while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
    this.#start = start;
    const options = this.#options;
    if (start < end) {
      if (this.#headDeadline === 0) this.#headDeadline = now() + options.headerTimeout;
      // The first look parses outright; a head that came in pieces is parsed once its end is
      // here, so a slow one is not parsed again on every read.
      if (this.#scanFrom < 0 || findHeadEnd(buf, start, this.#scanFrom, end) > 0) {
        // A read in flight may be writing past `end`, where the parser puts its stop byte.
        const head = parseHead(
          this.#pendingRead === null ? buf : buf.subarray(0, end),
          start,
          end,
          options.limits,
          this.#head,
        );
        if (head !== null) {
          this.#scanFrom = -1;
          this.#headDeadline = 0;
          if (!(head instanceof ProtocolError)) this.#start = start + head.size;
          return head;
        }
      }
      const tooBig = checkPartialHead(buf, start, end, options.limits);
      if (tooBig !== null) return tooBig;
      this.#scanFrom = Math.max(start, end - 3);
      this.phase = HEAD;
    } else if (this.#requests === 0) {
      this.phase = HEAD;
    } else {
      if (buf.length > KEPT_BUFFER) {
        this.#buf = new Uint8Array(INITIAL_BUFFER);
        this.#whole = null;
        this.#start = this.#end = 0;
      }
      this.phase = IDLE;
    }
    this.#armDeadline();
    return null;
  }

  /** Sets the deadline of the phase the connection is waiting in. */
  #armDeadline(): void {
    const options = this.#options;
    switch (this.phase) {
      case IDLE:
        this.deadline = now() + options.keepaliveTimeout;
        break;
      case HEAD:
        this.deadline = Math.min(this.#headDeadline, now() + options.timeout);
        break;
      case BODY:
        this.deadline = now() + options.timeout;
        break;
      default:
        this.deadline = 0;
    }
  }

  /** Answers a request the parser refused, then the connection closes. */
  async #refuse(error: ProtocolError): Promise<void> {
    this.phase = WRITE;
    this.deadline = now() + this.#options.timeout;
    const text = errorResponse(
      error.status,
      error.reason,
      httpDate(),
      this.#options.serverSoftware,
      false,
      error.minor,
    );
    this.#output.append(text);
    await this.#flush();
  }

  /**
   * Calls the app for `head` and answers. Returns the verdict (NEXT, CLOSE or UPGRADED) at once
   * when nothing had to be awaited, else a promise of it.
   */
  #serve(head: RequestHead): number | Promise<number> {
    const options = this.#options;
    const owner = this.#owner;
    this.#requests++;
    let keepAlive = head.minor === 1 ? !head.close : head.keepAlive && !head.close;
    if (options.maxKeepaliveRequests > 0 && this.#requests >= options.maxKeepaliveRequests) {
      keepAlive = false;
    }
    if (!owner.requestStarted() || owner.draining) keepAlive = false;
    this.#started = owner.access === undefined ? 0 : Date.now();

    let body: RequestBodyReader | null = null;
    if (head.chunked || head.contentLength > 0) {
      if (options.maxRequestBody > 0 && head.contentLength > options.maxRequestBody) {
        return this.#refuse(new ProtocolError(413, "request body too large")).then(() => CLOSE);
      }
      body = new RequestBodyReader(head, options.maxRequestBody, this.#input ??= this.#bodyInput());
    }
    this.#head = head;
    this.#body = body;
    this.#keepAlive = keepAlive;

    const state: RequestState = {
      head,
      scheme: this.#scheme,
      fallbackHost: this.#localHost,
      body,
      url: undefined,
      headers: undefined,
      abort: undefined,
      real: undefined,
      consumed: false,
    };
    this.#request = state;
    const info = new HandlerInfo(this.#remote, this.#completions, head.minor);

    this.phase = APP;
    this.deadline = 0;
    // An upgrade hands the socket over; a read started now would have to be handed over too.
    this.watchable = body === null && !head.upgrade;
    let result: Response | Promise<Response>;
    try {
      result = options.handler(createRequest(state), info);
    } catch (error) {
      return this.#answer(this.#failure(error), false);
    }
    if (result instanceof Promise) return this.#settle(result);
    return this.#answer(result, true);
  }

  /** Waits for the app's response, then answers. */
  async #settle(result: Promise<Response>): Promise<number> {
    let response: unknown;
    let fromApp = true;
    try {
      response = await result;
    } catch (error) {
      response = this.#failure(error);
      fromApp = false;
    }
    return await this.#answer(response, fromApp);
  }

  /**
   * Writes the response to the current request: what the app returned (`fromApp`, still to be
   * checked), or a failure response of the server's own, after which the connection closes.
   */
  #answer(value: unknown, fromApp: boolean): number | Promise<number> {
    let response = value as Response;
    let status = 0;
    if (fromApp && !(value instanceof Response)) {
      response = this.#failure(
        new TypeError(`the app returned ${describe(value)} instead of a Response`),
      );
      fromApp = false;
    } else if (fromApp && (status = response.status) === 0) {
      // Only a network error has status 0; it has no bytes to send.
      response = this.#failure(new TypeError("the app returned Response.error()"));
      fromApp = false;
    }
    if (!fromApp) {
      this.#keepAlive = false;
      status = response.status;
    }
    this.watchable = false;
    // A client that half-closed after its request may still read the answer, so write it.
    if (this.#eof) this.#keepAlive = false;

    const upgrade = (response as Response & { [upgradeKey]?: Upgrade })[upgradeKey];
    if (upgrade !== undefined) return this.#upgrade(upgrade);

    const body = this.#body;
    if (body !== null) {
      // A malformed body leaves the connection where no request can be found.
      if (body.error !== null || (!body.done && !body.skippable)) this.#keepAlive = false;
    }
    if (this.#owner.winding) this.#keepAlive = false;

    const bytes = this.#writeStatic(response, status);
    if (bytes >= 0) return this.#finish(status, bytes);
    return this.#respondStream(response, status).then((bytes) => this.#finish(status, bytes));
  }

  /** After a response: the access log, then whether and how the connection goes on. */
  #finish(status: number, bytes: number): number | Promise<number> {
    const head = this.#head!;
    const owner = this.#owner;
    this.#request = null;
    if (owner.access !== undefined) {
      owner.access({
        remote: this.#remote.transport === "unix" ? "-" : (this.#remote as Deno.NetAddr).hostname,
        requestLine: `${head.method} ${head.target} HTTP/1.${head.minor}`,
        status,
        bytes,
        referer: headerOf(head, "referer"),
        userAgent: headerOf(head, "user-agent"),
        time: this.#started,
      });
    }
    if (!this.#keepAlive) return CLOSE;
    const body = this.#body;
    if (body !== null && !body.done) {
      return body.skip().then((skipped) => skipped ? NEXT : CLOSE);
    }
    // Output stays buffered until the next read, so responses to pipelined requests share a
    // write; a large one goes out now rather than being held.
    if (this.#output.length >= DIRECT_WRITE || this.#output.queued.length > 0) {
      return this.#flush().then(() => NEXT);
    }
    return NEXT;
  }

  #settleCompletions(): void {
    if (this.#completions.length === 0) return;
    for (const resolve of this.#completions.splice(0)) resolve();
  }

  /** Turns an app failure into a 500 (or the body error's own status). */
  #failure(error: unknown): Response {
    const body = this.#body;
    if (body !== null && body.error !== null) {
      return new Response(body.error.reason + "\n", { status: body.error.status });
    }
    this.#owner.warn("the app failed", error);
    const detail = this.#options.development && error instanceof Error
      ? "\n\n" + (error.stack ?? String(error))
      : "";
    return new Response("Internal Server Error" + detail + "\n", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }

  /** The connection as its request bodies see it: the read buffer and reads under a timeout. */
  #bodyInput(): BodyInput {
    // deno-lint-ignore no-this-alias
    const connection = this;
    return {
      get buffer() {
        return connection.#buf;
      },
      get start() {
        return connection.#start;
      },
      set start(start: number) {
        connection.#start = start;
      },
      get end() {
        return connection.#end;
      },
      fill: () => this.#fillBody(),
      readInto: (into) =>
        this.#pendingRead === null && !this.#eof && !this.#closed ? this.#readDirect(into) : null,
      sendContinue: () => {
        this.#output.appendBytes(CONTINUE);
        return this.#flush();
      },
      lost: (reason) => {
        if (this.#request !== null) abortRequest(this.#request, reason);
      },
      finished: () => {
        if (this.#request !== null) this.watchable = true;
      },
    };
  }

  /** Reads more of a body into the buffer, under the body timeout. */
  async #fillBody(): Promise<boolean> {
    this.phase = BODY;
    this.deadline = now() + this.#options.timeout;
    try {
      return await this.#fill();
    } finally {
      this.phase = APP;
      this.deadline = 0;
    }
  }

  /** Reads body bytes from the socket straight into `into`; 0 at the end of the stream. */
  async #readDirect(into: Uint8Array): Promise<number> {
    await this.#flush();
    this.phase = BODY;
    this.deadline = now() + this.#options.timeout;
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
    } finally {
      this.phase = APP;
      this.deadline = 0;
    }
  }

  async #upgrade(upgrade: Upgrade): Promise<number> {
    let text = statusLine(1, 101);
    for (const [name, value] of upgrade.headers) text += name + ": " + value + "\r\n";
    this.#output.append(text + "\r\n");
    await this.#flush();
    if (this.#pendingRead !== null) await this.#pendingRead;
    const rest = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    this.#request = null;
    const owner = this.#owner;
    await upgrade.run(this.#conn, rest, owner.drainSignal).catch((error) =>
      owner.warn("upgraded connection failed", error)
    );
    return UPGRADED;
  }

  /** Sets up the reused context for a response to the current request. */
  #contextFor(head: RequestHead): ResponseContext {
    const context = this.#context;
    context.minor = head.minor;
    context.head = head.method === "HEAD";
    context.keepAlive = this.#keepAlive;
    context.date = httpDate(now());
    return context;
  }

  /** Writes a head into the output; returns how to follow it. */
  #writeHead(
    status: number,
    fields: Iterable<[string, string]>,
    contentType: string | null,
    bodyLength: number,
  ): ResponseHead {
    const context = this.#contextFor(this.#head!);
    const plan = this.#plan;
    const output = this.#output;
    output.reserve(HEAD_ROOM);
    while (
      !writeHead(
        output.bytes,
        output.length,
        status,
        fields,
        contentType,
        bodyLength,
        context,
        plan,
      )
    ) {
      output.reserve(output.bytes.length);
    }
    output.length = plan.end;
    this.#keepAlive = plan.keepAlive;
    return plan;
  }

  /**
   * Writes a response whose body is a string or bytes (or none) without touching its stream.
   * Returns the body bytes written, or -1 when the response has a stream to read.
   */
  #writeStatic(response: Response, status: number): number {
    const parts = this.#parts;
    if (!readResponseParts(response, parts)) return -1;
    const body = parts.body;
    let length = -2;
    let text: string | null = null;
    let bytes: Uint8Array | null = null;
    if (body !== null && status >= 200 && status !== 204 && status !== 304) {
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
    const plan = this.#writeHead(status, parts.fields, parts.contentType, length);
    parts.fields = NO_FIELDS;
    parts.body = null;
    if (plan.mode !== BODY_LENGTH) return 0;
    if (text !== null) {
      const output = this.#output;
      output.reserve(length);
      const out = output.bytes;
      let o = output.length;
      for (let i = 0; i < length; i++) out[o++] = text.charCodeAt(i);
      output.length = o;
    } else if (bytes !== null) {
      this.#output.appendBytes(bytes);
    }
    return length === -2 ? 0 : length;
  }

  /** Writes a response whose body is a stream (or any response, where internals are unknown). */
  async #respondStream(response: Response, status: number): Promise<number> {
    const noBody = status < 200 || status === 204 || status === 304;
    const stream = response.body;
    if (stream === null || noBody) {
      if (stream !== null) stream.cancel().catch(() => {});
      this.#writeHead(status, response.headers, null, -2);
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
      this.#writeHead(status, response.headers, null, 0);
      return 0;
    }
    if (!(first.value instanceof Uint8Array)) {
      reader.cancel().catch(() => {});
      return this.#writeFailure(
        new TypeError("the response body yielded a non-Uint8Array chunk"),
      );
    }
    const next = reader.read();
    const settled = await ifSettled(next);
    if (settled !== NOT_YET && (settled as ReadableStreamReadResult<Uint8Array>).done) {
      const chunk = first.value;
      const plan = this.#writeHead(status, response.headers, null, chunk.length);
      if (plan.mode !== BODY_LENGTH) return 0;
      this.#output.appendBytes(chunk);
      return chunk.length;
    }

    const plan = this.#writeHead(status, response.headers, null, -1);
    if (plan.mode === BODY_NONE) {
      reader.cancel().catch(() => {});
      return 0;
    }
    const chunked = plan.mode === BODY_CHUNKED;
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
          const output = this.#output;
          if (output.length > 0 && output.length + framed > output.bytes.length) {
            await this.#flush();
          }
          if (chunked) {
            output.reserve(MAX_CHUNK_SIZE_LINE);
            output.length = writeChunkSize(output.bytes, output.length, chunk.length);
          }
          this.#output.appendBytes(chunk);
          if (chunked) this.#output.appendBytes(CRLF);
        }
        if (pending === null) break;
        // Chunks the stream already holds share one write; the moment it has none ready, what
        // is buffered goes out, so a server-sent event is never held back.
        let result = this.#output.length >= DIRECT_WRITE || this.#output.queued.length > 0
          ? NOT_YET
          : await ifSettled(pending);
        if (result === NOT_YET) {
          await this.#flush();
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
      reader.cancel(error).catch(() => {});
      if (this.#request !== null) abortRequest(this.#request, error);
      if (!isDisconnect(error) && !(error instanceof ConnectionGone)) {
        this.#owner.warn("the response body failed after the response started", error);
      }
      this.#keepAlive = false;
      return bytes;
    }
    if (pending === null) reader.cancel().catch(() => {});
    if (chunked) this.#output.appendBytes(CHUNK_END);
    if (bytes < limit && limit !== Infinity) {
      this.#owner.warn(
        `the response body was shorter than its Content-Length (${bytes} of ${limit})`,
      );
      await this.#flush();
      this.#keepAlive = false;
      return bytes;
    }
    return bytes;
  }

  /** An error before the head went out: a 500 instead, then close. */
  async #writeFailure(error: unknown): Promise<number> {
    this.#owner.warn("the response body failed before the response started", error);
    const detail = this.#options.development && error instanceof Error ? error.stack ?? "" : "";
    this.#output.append(
      errorResponse(
        500,
        detail,
        httpDate(),
        this.#options.serverSoftware,
        false,
        this.#head!.minor,
      ),
    );
    await this.#flush();
    this.#keepAlive = false;
    return 0;
  }

  async #flush(): Promise<void> {
    const output = this.#output;
    if (!output.pending) return;
    const phase = this.#beginWrite();
    try {
      for (const queued of output.queued) await this.#writeAll(queued);
      const length = output.length;
      if (length > 0) {
        // One write is the rule; only a full socket buffer leaves a rest.
        const n = await this.#conn.write(output.bytes.subarray(0, length));
        if (n < length) await this.#writeAll(output.bytes.subarray(n, length));
      }
    } catch (error) {
      output.release();
      if (this.#closed || isDisconnect(error)) throw new ConnectionGone();
      throw error;
    }
    this.#endWrite(phase);
  }

  /** Enters the write phase; returns the phase it interrupts. */
  #beginWrite(): number {
    const phase = this.phase;
    this.phase = WRITE;
    this.deadline = now() + this.#options.timeout;
    return phase;
  }

  /** Everything buffered is written: back to `phase`, whose wait starts over. */
  #endWrite(phase: number): void {
    this.#output.release();
    // An idle connection's keep-alive time counts from when its last response went out.
    this.phase = phase;
    this.#armDeadline();
    this.#settleCompletions();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(written === 0 ? bytes : bytes.subarray(written));
      this.deadline = now() + this.#options.timeout;
    }
  }
}

const NOT_YET: unique symbol = Symbol("not yet");

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
const NO_FIELDS: [string, string][] = [];
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

/** The handler's `info`: `completed` costs nothing unless the app asks for it. */
class HandlerInfo implements ServeHandlerInfo {
  readonly remoteAddr: Deno.NetAddr | Deno.UnixAddr;
  readonly httpVersion: "HTTP/1.0" | "HTTP/1.1";
  #completions: (() => void)[];
  #completed: Promise<void> | undefined;

  constructor(
    remoteAddr: Deno.NetAddr | Deno.UnixAddr,
    completions: (() => void)[],
    minor: number,
  ) {
    this.remoteAddr = remoteAddr;
    this.httpVersion = minor === 0 ? "HTTP/1.0" : "HTTP/1.1";
    this.#completions = completions;
  }

  get completed(): Promise<void> {
    return this.#completed ??= new Promise<void>((resolve) => this.#completions.push(resolve));
  }
}

function headerOf(head: RequestHead, name: string): string {
  const i = head.names.indexOf(name);
  return i === -1 ? "-" : head.values[i];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value;
}

/** Errors that mean the peer went away or misbehaved, not that something is wrong with the server. */
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
