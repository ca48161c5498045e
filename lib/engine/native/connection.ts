/**
 * One accepted connection served by Deno's HTTP engine (`--engine native`): the app's handler
 * wrapped with what Starlight still decides per request — counting it, ending keep-alive (the
 * connection's request limit, a retiring worker), the access log, the address and scheme of a
 * relayed connection, and the 500 for an app failure, logged with its method and path.
 *
 * The common request (no access log, a direct connection, keep-alive going on) costs a counter,
 * a comparison and one call more than `Deno.serve`'s, and an asynchronous response one `then`
 * more (a drain may begin while the app works: its response must still say `Connection:
 * close`); the rest is paid only where it applies.
 *
 * @module
 */

import { appFailureMessage, failureResponse } from "../app_call.ts";
import type { EngineOptions } from "../config.ts";
import type { AccessEntry } from "../exchange.ts";
import { type NativeHandler, type NativeHttp, serveConnection } from "../../deno/serve_http.ts";
import { readResponseParts, type ResponseParts } from "../../deno/response_parts.ts";
import { utf8Length } from "../../http/utf8_length.ts";

/** What a connection needs from the server that owns it. */
export interface NativeOwner {
  /** The options. */
  readonly options: EngineOptions;
  /** Set once the server retires or drains: every response closes its connection. */
  readonly retiring: boolean;
  /** Counts a request (which may make the server retire). */
  requestStarted(): void;
  /** Responses by status class, [1xx … 5xx]; counted on the full path only. */
  readonly responses: number[];
  /** Called after each response when an access log is kept. */
  readonly access: ((entry: AccessEntry) => void) | undefined;
  /**
   * A hook that may answer a request before the app (a health path): a response, or undefined
   * to call the app.
   */
  readonly intercept: ((request: Request) => Response | undefined) | undefined;
  /** Reports a problem worth an operator's attention. */
  warn(message: string, error?: unknown): void;
  /** Called once the connection has ended. */
  closed(connection: NativeConnection): void;
}

type Info = Deno.ServeHandlerInfo<Deno.NetAddr | Deno.UnixAddr>;

/**
 * One connection and its requests.
 *
 * @example
 * ```ts ignore
 * const connection = new NativeConnection(await listener.accept(), server, "http");
 * await connection.finished;
 * ```
 */
export class NativeConnection {
  /** Its place in its server's list of connections (the server's bookkeeping). */
  index = -1;
  /** Requests started on this connection. */
  requests = 0;
  /** {@link requests} when the server's sweeper last saw it change. */
  seenRequests = 0;
  /** When (ms) the sweeper last saw {@link requests} change, or the connection start. */
  quietSince: number = Date.now();
  /** Settles once the connection has ended. */
  readonly finished: Promise<void>;

  readonly #owner: NativeOwner;
  readonly #http: NativeHttp;
  readonly #cut = new AbortController();
  readonly #conn: Deno.Conn;
  /** The address the app is told; a relayed connection's is its client's, not the relay's. */
  readonly #relayed: boolean;
  readonly #https: boolean;
  readonly #limit: number;
  /** The latest request, to name in the log line of an app failure. */
  #current: Request | undefined;
  #ending = false;

  /** Serves `conn`, accepted on a listener of `scheme` (`http` or `https`). */
  constructor(conn: Deno.Conn, owner: NativeOwner, scheme: string) {
    this.#conn = conn;
    this.#owner = owner;
    this.#limit = owner.options.maxKeepaliveRequests;
    // A relay (TLS front, UNIX socket) gives its connection the client's addresses as own
    // properties (`relay_listener.ts`); Deno's engine would report the loopback peer instead.
    this.#relayed = Object.hasOwn(conn, "remoteAddr");
    this.#https = scheme === "https";
    const plain = !this.#relayed && !this.#https && owner.access === undefined &&
      owner.intercept === undefined;
    this.#http = serveConnection(
      conn,
      this.#cut.signal,
      plain ? this.#plain : this.#full,
      this.#failed,
    );
    this.finished = this.#http.finished.then(() => owner.closed(this));
  }

  /** Ends the connection gracefully: the request in flight is answered first. */
  end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#http.shutdown();
  }

  /** Cuts the connection now. */
  cut(): void {
    this.#cut.abort();
  }

  /** The handler for a direct connection without an access log: the hot path. */
  #plain: NativeHandler = (request, info) => {
    this.#owner.requestStarted();
    this.#current = request;
    if (++this.requests < this.#limit && !this.#owner.retiring) {
      const result = this.#owner.options.handler(request, info);
      // The app may retire its worker (`retireWorker()`) while it answers.
      return result instanceof Promise ? result.then(this.#settled) : this.#settled(result);
    }
    return this.#full(request, info, true);
  };

  /**
   * An asynchronous response, once the app has it: the server may have begun to retire or
   * drain meanwhile, and then it is the connection's last.
   */
  #settled = (response: Response): Response => {
    if (this.#owner.retiring) this.#closeAfter(response);
    return response;
  };

  /** The handler that applies everything (`counted`: by {@link #plain} already). */
  #full = (request: Request, info: Info, counted = false): Response | Promise<Response> => {
    const owner = this.#owner;
    if (!counted) {
      owner.requestStarted();
      this.#current = request;
      this.requests++;
    }
    if (this.#https) {
      // Deno's engine sees the relay's plaintext; the client used TLS.
      Object.defineProperty(request, "url", { value: "https" + request.url.slice(4) });
    }
    const appInfo = this.#relayed ? relayedInfo(this.#conn, info) : info;
    const last = this.requests >= this.#limit || owner.retiring;
    const time = Date.now();
    const finish = (response: Response): Response => {
      const index = (response.status / 100 | 0) - 1;
      if (index >= 0 && index < 5) owner.responses[index]++;
      if (last || owner.retiring) this.#closeAfter(response);
      if (owner.access !== undefined) owner.access(accessEntry(request, appInfo, response, time));
      return response;
    };
    const early = owner.intercept?.(request);
    if (early !== undefined) return finish(early);
    const result = owner.options.handler(request, appInfo);
    if (result instanceof Promise) return result.then(finish);
    return last || owner.access !== undefined ? finish(result) : result;
  };

  /** Answers an app that threw or rejected with a 500, and logs it once a second at most. */
  #failed = (error: unknown): Response => {
    const request = this.#current;
    const target = request === undefined ? "-" : new URL(request.url).pathname;
    this.#owner.warn(appFailureMessage(request?.method ?? "-", target), error);
    const response = failureResponse(error, this.#owner.options.development);
    if (this.#owner.access !== undefined && request !== undefined) {
      this.#owner.access(accessEntry(request, { remoteAddr: this.#conn.remoteAddr }, response));
    }
    return response;
  };

  /**
   * Makes `response` the connection's last: it says `Connection: close` (unless the app's
   * headers are immutable, a `fetch()` response), and the connection ends gracefully once it is
   * sent. Deno's engine sends the header but would keep the connection open.
   */
  #closeAfter(response: Response): void {
    // A 101 hands the connection to the WebSocket; it is not the HTTP connection's to close.
    if (response.status === 101) return;
    try {
      response.headers.set("connection", "close");
    } catch {
      // Immutable: the graceful end still closes the connection after this response.
    }
    this.end();
  }
}

/** The handler info for a relayed connection: its client's address, Deno's `completed`. */
function relayedInfo(conn: Deno.Conn, info: Info): Info {
  return {
    remoteAddr: conn.remoteAddr as Deno.NetAddr | Deno.UnixAddr,
    get completed() {
      return info.completed;
    },
  };
}

/**
 * The access-log entry for a response. Deno's engine does not say the protocol version or how
 * many body bytes went out: the request line says `HTTP/1.1`; the size is the response's
 * `Content-Length`, else the length of a body given whole, else `-` (a stream).
 */
function accessEntry(
  request: Request,
  info: { remoteAddr: Deno.Addr },
  response: Response,
  time = Date.now(),
): AccessEntry {
  const url = request.url;
  const remote = info.remoteAddr;
  const length = response.headers.get("content-length") ?? staticLength(response);
  return {
    remote: remote.transport === "tcp" ? remote.hostname : "-",
    requestLine: `${request.method} ${url.slice(url.indexOf("/", url.indexOf("//") + 2))} HTTP/1.1`,
    status: response.status,
    bytes: length === null ? NaN : Number(length),
    referer: request.headers.get("referer") ?? "-",
    userAgent: request.headers.get("user-agent") ?? "-",
    time,
  };
}

const parts: ResponseParts = { fields: [], contentType: null, body: null };

/** The length of a body given whole (as a string), null for a stream. */
function staticLength(response: Response): string | null {
  if (!readResponseParts(response, parts)) return null;
  const body = parts.body;
  parts.fields = [];
  return String(body === null ? 0 : typeof body === "string" ? utf8Length(body) : body.length);
}
