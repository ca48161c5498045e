/**
 * One request's exchange with the app: the keep-alive decision and the body for its head, the
 * lazy `Request` and `info` handed to the app, the check of what it returned (a 500 instead,
 * when it failed), the response handed to the writer, the access log, and whether the
 * connection goes on. The connection's loop calls {@link Exchange.serve} for each head and
 * awaits only what it returns.
 *
 * @module
 */

import { ProtocolError } from "../http/error.ts";
import type { RequestHead } from "../http/head.ts";
import { BODY_CLOSE, keepAliveAfter, unreadBodyAction } from "../http/persistence.ts";
import { expectsContinue, requestBodyLength } from "../http/request_framing.ts";
import { healthResponse, isHealthCheck } from "../http/health.ts";
import { forwardedClient } from "../http/forwarded.ts";
import { createRequest, type RequestState } from "../app/request.ts";
import { appFailureMessage, failureResponse, HandlerInfo, unsendable } from "./app_call.ts";
import { type BodyHost, ConnectionBodyInput } from "./body_input.ts";
import type { EngineOptions } from "./config.ts";
import { type UpgradableResponse, type Upgrade, upgradeKey } from "./handoff.ts";
import { DIRECT_WRITE } from "./output_buffer.ts";
import { RequestBodyReader } from "./request_body.ts";
import type { ResponseWriter } from "./response_writer.ts";

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

/** What an exchange needs from the server. */
export interface ExchangeOwner {
  /** The options. */
  readonly options: EngineOptions;
  /** Set once the server retires or drains: close after each response. */
  readonly retiring: boolean;
  /** What the health path answers: false once shutting down (or waiting out its delay). */
  readonly healthy: boolean;
  /** Counts a request (which may make the server retire). */
  requestStarted(): void;
  /** Counts a response by its status (for the metrics). */
  responded(status: number): void;
  /** Called after each response when an access log is kept. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  /** Reports a problem worth an operator's attention. */
  warn(message: string, error?: unknown): void;
}

/** What an exchange needs from its connection. */
export interface ExchangeHost extends BodyHost {
  /** The socket is closed: the exchange was abandoned. */
  readonly closed: boolean;
  /** The client's side of the stream has ended. */
  readonly eof: boolean;
  /** Whether the sweeper may start a read to notice a hang-up. */
  watchable: boolean;
  /** The app is called now: its time to answer starts. */
  appStarted(): void;
  /** Writes the `101` and hands the connection to the protocol it switches to. */
  upgrade(upgrade: Upgrade): Promise<number>;
}

/** What {@link Exchange.serve} tells the loop once a response is done: read the next request. */
export const NEXT = 0;
/** Close the connection. */
export const CLOSE = 1;
/** The connection was handed over (a WebSocket); the loop lets go of it. */
export const UPGRADED = 2;

/**
 * The request cycle of one connection, reused for each of its requests.
 *
 * @example
 * ```ts ignore
 * let verdict = exchange.serve(head);
 * if (typeof verdict !== "number") verdict = await verdict;
 * ```
 */
export class Exchange {
  /** The request being answered (or the last one): the parser reuses its strings. */
  head: RequestHead | null = null;
  /** The request's state while it is answered, to abort its signal; null between requests. */
  request: RequestState | null = null;
  /** Resolves of `info.completed`, settled once the response is written. */
  readonly completions: (() => void)[] = [];
  #body: RequestBodyReader | null = null;
  #served = 0;
  #started = 0;
  /** What this connection's bodies read through, made for its first body. */
  #input: ConnectionBodyInput | null = null;
  readonly #host: ExchangeHost;
  readonly #owner: ExchangeOwner;
  readonly #options: EngineOptions;
  readonly #writer: ResponseWriter;
  readonly #remote: Deno.NetAddr | Deno.UnixAddr;
  /** The client of the current request: the peer, or whom a trusted proxy names. */
  #client: Deno.NetAddr | Deno.UnixAddr;
  readonly #scheme: string;
  readonly #localHost: string;

  /** The exchanges of the connection `host` to `remote`, served as `scheme` on `localHost`. */
  constructor(
    host: ExchangeHost,
    owner: ExchangeOwner,
    writer: ResponseWriter,
    remote: Deno.NetAddr | Deno.UnixAddr,
    scheme: string,
    localHost: string,
  ) {
    this.#host = host;
    this.#owner = owner;
    this.#options = owner.options;
    this.#writer = writer;
    this.#remote = remote;
    this.#client = remote;
    this.#scheme = scheme;
    this.#localHost = localHost;
  }

  /** Requests served on the connection so far. */
  get served(): number {
    return this.#served;
  }

  /** The client minor version to answer the server's own responses in. */
  get minor(): number {
    return this.head?.minor ?? 1;
  }

  /** The body of the request being answered, if it has one. */
  get body(): RequestBodyReader | null {
    return this.#body;
  }

  /**
   * Calls the app for `head` and answers. Returns the verdict (NEXT, CLOSE or UPGRADED) at once
   * when nothing had to be awaited, else a promise of it.
   */
  serve(head: RequestHead): number | Promise<number> {
    const options = this.#options;
    const owner = this.#owner;
    const host = this.#host;
    const served = ++this.#served;
    const health = options.healthPath !== undefined &&
      isHealthCheck(
        head.method,
        head.target,
        head.chunked || head.contentLength > 0,
        options.healthPath,
      );
    // A balancer's probes are not the app's requests: they never recycle a worker.
    if (!health) owner.requestStarted();
    const keepAlive = keepAliveAfter(head, served, options.maxKeepaliveRequests, owner.retiring);
    this.#started = owner.access === undefined ? 0 : Date.now();

    let body: RequestBodyReader | null = null;
    if (head.chunked || head.contentLength > 0) {
      const length = requestBodyLength(head, options.maxRequestBody);
      if (length instanceof ProtocolError) return this.refuse(length);
      const input = this.#input ??= new ConnectionBodyInput(host, options.timeout);
      input.begin();
      body = new RequestBodyReader(length, expectsContinue(head), options.maxRequestBody, input);
    }
    this.head = head;
    this.#body = body;
    this.#writer.begin(head, keepAlive);

    if (health) {
      this.request = null;
      return this.#answer(healthResponse(owner.healthy), true);
    }
    let remote = this.#remote;
    let scheme = this.#scheme;
    const trusted = options.trustedProxies;
    if (trusted !== undefined) {
      const client = forwardedClient(head, remote, trusted);
      if (client !== null) {
        remote = client.remote;
        if (client.scheme !== "") scheme = client.scheme;
      }
    }
    this.#client = remote;

    const state: RequestState = {
      head,
      scheme,
      fallbackHost: this.#localHost,
      body,
      url: undefined,
      headers: undefined,
      abort: undefined,
      real: undefined,
      consumed: false,
    };
    this.request = state;
    const info = new HandlerInfo(remote, this.completions, head.minor);

    host.appStarted();
    // An upgrade hands the socket over; a read started now would have to be handed over too.
    host.watchable = body === null && !head.upgrade;
    let result: Response | Promise<Response>;
    try {
      result = options.handler(createRequest(state), info);
    } catch (error) {
      return this.#answer(this.#failure(error), false);
    }
    if (result instanceof Promise) return this.#settle(result);
    return this.#answer(result, true);
  }

  /** Settles every `info.completed` asked for: the response is written, or never will be. */
  settleCompletions(): void {
    if (this.completions.length === 0) return;
    for (const resolve of this.completions.splice(0)) resolve();
  }

  /** Answers a request refused before the app saw it; the connection then closes. */
  async refuse(error: ProtocolError): Promise<number> {
    const writer = this.#writer;
    writer.appendRefusal(error.status, error.reason, error.minor);
    await writer.flush();
    return CLOSE;
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
    const host = this.#host;
    if (host.closed) {
      // Abandoned (the client left, or the app was too late): nobody reads this answer.
      if (value instanceof Response) value.body?.cancel().catch(() => {});
      return CLOSE;
    }
    let response = value as Response;
    const writer = this.#writer;
    if (fromApp) {
      const problem = unsendable(value);
      if (problem !== null) {
        response = this.#failure(problem);
        fromApp = false;
      }
    }
    if (!fromApp) writer.keepAlive = false;
    const status = response.status;
    host.watchable = false;
    // A client that half-closed after its request may still read the answer, so write it.
    if (host.eof) writer.keepAlive = false;

    const upgrade = (response as UpgradableResponse)[upgradeKey];
    if (upgrade !== undefined) {
      this.request = null;
      return host.upgrade(upgrade);
    }

    const body = this.#body;
    if (body !== null && unreadBodyAction(body) === BODY_CLOSE) writer.keepAlive = false;
    if (this.#owner.retiring) writer.keepAlive = false;

    const bytes = writer.writeStatic(response, status);
    if (bytes >= 0) return this.#finish(status, bytes);
    return writer.writeStream(response, status).then((bytes) => this.#finish(status, bytes));
  }

  /** After a response: the access log, then whether and how the connection goes on. */
  #finish(status: number, bytes: number): number | Promise<number> {
    const head = this.head!;
    const owner = this.#owner;
    this.request = null;
    owner.responded(status);
    if (owner.access !== undefined) {
      owner.access({
        remote: this.#client.transport === "unix" ? "-" : (this.#client as Deno.NetAddr).hostname,
        requestLine: `${head.method} ${head.target} HTTP/1.${head.minor}`,
        status,
        bytes,
        referer: headerOf(head, "referer"),
        userAgent: headerOf(head, "user-agent"),
        time: this.#started,
      });
    }
    const writer = this.#writer;
    if (!writer.keepAlive || this.#host.closed) return CLOSE;
    const body = this.#body;
    if (body !== null && !body.done) {
      return body.skip().then((skipped) => skipped ? NEXT : CLOSE);
    }
    // Output stays buffered until the next read, so responses to pipelined requests share a
    // write; a large one goes out now rather than being held.
    const output = writer.output;
    if (output.length >= DIRECT_WRITE || output.queued.length > 0) {
      return writer.flush().then(() => NEXT);
    }
    return NEXT;
  }

  /** Turns an app failure into a 500 (or the body error's own status). */
  #failure(error: unknown): Response {
    const body = this.#body;
    if (body !== null && body.error !== null) {
      return new Response(body.error.reason + "\n", { status: body.error.status });
    }
    // An app that fails because its client left mid-body did nothing wrong.
    const left = body?.clientLeft ?? null;
    if (left === null || (error !== left && (error as { cause?: unknown })?.cause !== left)) {
      const head = this.head!;
      this.#owner.warn(appFailureMessage(head.method, head.target), error);
    }
    return failureResponse(error, this.#options.development);
  }
}

function headerOf(head: RequestHead, name: string): string {
  const i = head.names.indexOf(name);
  return i === -1 ? "-" : head.values[i];
}
