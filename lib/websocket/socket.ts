/**
 * The application-facing socket: a standard `WebSocket` (events, `send`, `close`, states),
 * driven by the connection through a {@link SocketDriver} that stays out of the public type.
 *
 * @module
 */

import { isSendableCloseCode } from "./close.ts";
import { GuardedEventTarget } from "./guarded_event_target.ts";

/** What an open socket asks of its connection. */
export interface SocketTransport {
  /** Bytes accepted by `send` and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Queues one message; `data` may be the app's own buffer, to be copied before returning. */
  send(data: Uint8Array | Blob, text: boolean): void;
  /** Starts the closing handshake; no code sends an empty close frame. */
  close(code: number | undefined, reason: string): void;
}

/** A `close()` call made before the connection started. */
export interface CloseRequest {
  /** The code given, if any. */
  readonly code: number | undefined;
  /** The reason given, possibly empty. */
  readonly reason: string;
}

/** How a socket ended, for its `close` event (and `error`, when `error` is set). */
export interface SocketEnd {
  /** The close code to report. */
  readonly code: number;
  /** The close reason to report. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
  /** When set, an `error` event with this message precedes `close`. */
  readonly error?: string;
}

/** The connection's handle on a socket: state changes and the events they fire. */
export interface SocketDriver {
  /**
   * Attaches the transport and opens the socket (firing `open`), unless `close()` was called
   * while connecting: then the socket stays CLOSING and the request is returned.
   */
  start(transport: SocketTransport): CloseRequest | undefined;
  /** Fires `message`, if the socket is still open. */
  message(data: string | Uint8Array<ArrayBuffer>): void;
  /** Moves to CLOSING (the close frame is on its way). */
  closing(): void;
  /** Moves to CLOSED and fires `error` (if any) then `close`. */
  closed(end: SocketEnd): void;
}

/** What a socket is born with. */
export interface SocketInit {
  /** The request URL with a `ws:` or `wss:` scheme. */
  readonly url: string;
  /** The agreed subprotocol, or `""`. */
  readonly protocol: string;
  /** The agreed extensions as sent in `Sec-WebSocket-Extensions`, or `""`. */
  readonly extensions: string;
}

/** A new socket and the driver for it. */
export interface CreatedSocket {
  /** The socket, for the application. */
  readonly socket: StarlightWebSocket;
  /** Its driver, for the connection. */
  readonly driver: SocketDriver;
}

const encoder = new TextEncoder();
let create: (init: SocketInit) => CreatedSocket;

/**
 * Creates a socket in the CONNECTING state, with its driver.
 *
 * @example
 * ```ts
 * import { createSocket } from "./socket.ts";
 * const { socket } = createSocket({ url: "ws://localhost/", protocol: "", extensions: "" });
 * socket.readyState; // 0 (CONNECTING)
 * ```
 */
export function createSocket(init: SocketInit): CreatedSocket {
  return create(init);
}

/**
 * The server side of a WebSocket connection, as returned by `upgradeWebSocket`; it behaves like
 * the socket of `Deno.upgradeWebSocket`: binary messages arrive as `ArrayBuffer` by default,
 * and `send` while CLOSING or CLOSED discards silently. Differences: `url` is the request URL
 * (Deno's is `""`); `close` also accepts the server codes 1001–1003 and 1007–1014; exceptions
 * thrown by listeners are logged with `console.error` instead of crashing the worker.
 *
 * @example An echo server
 * ```ts
 * import { upgradeWebSocket } from "@x/starlight";
 * const handler = (request: Request): Response => {
 *   const { socket, response } = upgradeWebSocket(request);
 *   socket.onmessage = (event) => socket.send(event.data);
 *   return response;
 * };
 * ```
 */
export class StarlightWebSocket extends GuardedEventTarget implements WebSocket {
  /** The connection has not started yet. */
  static readonly CONNECTING: 0 = 0;
  /** Messages flow both ways. */
  static readonly OPEN: 1 = 1;
  /** The closing handshake is under way. */
  static readonly CLOSING: 2 = 2;
  /** The connection is closed. */
  static readonly CLOSED: 3 = 3;
  /** The connection has not started yet. */
  readonly CONNECTING: 0 = 0;
  /** Messages flow both ways. */
  readonly OPEN: 1 = 1;
  /** The closing handshake is under way. */
  readonly CLOSING: 2 = 2;
  /** The connection is closed. */
  readonly CLOSED: 3 = 3;

  readonly #url: string;
  readonly #origin: string;
  readonly #protocol: string;
  readonly #extensions: string;
  #readyState = 0;
  #binaryType: BinaryType = "arraybuffer";
  #transport: SocketTransport | undefined;
  #closeRequest: CloseRequest | undefined;
  readonly #handlers = new Map<string, ((this: WebSocket, event: Event) => unknown) | null>();

  private constructor(init: SocketInit) {
    super();
    this.#url = init.url;
    this.#origin = new URL(init.url).origin;
    this.#protocol = init.protocol;
    this.#extensions = init.extensions;
  }

  static {
    create = (init) => {
      const socket = new StarlightWebSocket(init);
      return { socket, driver: socket.#driver() };
    };
  }

  /** The request URL, with a `ws:` or `wss:` scheme. */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol agreed in the handshake, or `""`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions agreed in the handshake (`permessage-deflate…`), or `""`. */
  get extensions(): string {
    return this.#extensions;
  }

  /** One of {@link CONNECTING}, {@link OPEN}, {@link CLOSING}, {@link CLOSED}. */
  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes accepted by {@link send} and not yet written to the network. */
  get bufferedAmount(): number {
    return this.#transport?.bufferedAmount ?? 0;
  }

  /**
   * How binary messages are delivered: `"arraybuffer"` (the default, as on Deno's server
   * sockets; browsers default to `"blob"`) or `"blob"`.
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    // Like any WebIDL enum attribute, an unknown value is ignored.
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /** Called when the connection opens. */
  get onopen(): ((this: WebSocket, event: Event) => unknown) | null {
    return this.#handlers.get("open") ?? null;
  }
  set onopen(handler: ((this: WebSocket, event: Event) => unknown) | null) {
    this.#setHandler("open", handler);
  }

  /** Called for each message. */
  get onmessage(): ((this: WebSocket, event: MessageEvent) => unknown) | null {
    return this.#handlers.get("message") ?? null;
  }
  set onmessage(handler: ((this: WebSocket, event: MessageEvent) => unknown) | null) {
    this.#setHandler("message", handler as ((this: WebSocket, event: Event) => unknown) | null);
  }

  /** Called when the connection fails (protocol error, timeout, network error). */
  get onerror(): ((this: WebSocket, event: Event | ErrorEvent) => unknown) | null {
    return this.#handlers.get("error") ?? null;
  }
  set onerror(handler: ((this: WebSocket, event: Event | ErrorEvent) => unknown) | null) {
    this.#setHandler("error", handler);
  }

  /** Called once the connection is closed. */
  get onclose(): ((this: WebSocket, event: CloseEvent) => unknown) | null {
    return this.#handlers.get("close") ?? null;
  }
  set onclose(handler: ((this: WebSocket, event: CloseEvent) => unknown) | null) {
    this.#setHandler("close", handler as ((this: WebSocket, event: Event) => unknown) | null);
  }

  /** Adds a listener; typed by event for `open`, `message`, `error` and `close`. */
  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Adds a listener for any event type. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /** Removes a listener; typed by event for `open`, `message`, `error` and `close`. */
  override removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Removes a listener for any event type. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  /**
   * Sends a message: a string as text, anything else as binary. The data is copied at once.
   * Throws `InvalidStateError` while CONNECTING; discards once CLOSING or CLOSED.
   */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.#readyState === StarlightWebSocket.CONNECTING) {
      throw new DOMException("The WebSocket is not open yet", "InvalidStateError");
    }
    if (this.#readyState !== StarlightWebSocket.OPEN) return;
    if (typeof data === "string") this.#transport!.send(encoder.encode(data), true);
    else if (data instanceof Blob) this.#transport!.send(data, false);
    else if (ArrayBuffer.isView(data)) {
      this.#transport!.send(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), false);
    } else this.#transport!.send(new Uint8Array(data), false);
  }

  /**
   * Starts the closing handshake. `code` may be 1000, 1001–1003, 1007–1014 or 3000–4999
   * (else `InvalidAccessError`); `reason` at most 123 bytes of UTF-8 (else `SyntaxError`).
   * A reason without a code sends 1000; neither sends a close frame without a code.
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && !(Number.isInteger(code) && isSendableCloseCode(code))) {
      throw new DOMException(`Invalid close code ${code}`, "InvalidAccessError");
    }
    const text = reason ?? "";
    if (encoder.encode(text).length > 123) {
      throw new DOMException("The close reason exceeds 123 bytes", "SyntaxError");
    }
    const request = { code: code ?? (text === "" ? undefined : 1000), reason: text };
    if (this.#readyState === StarlightWebSocket.CONNECTING) {
      this.#closeRequest = request;
      this.#readyState = StarlightWebSocket.CLOSING;
    } else if (this.#readyState === StarlightWebSocket.OPEN) {
      this.#transport!.close(request.code, request.reason);
    }
  }

  #setHandler(type: string, handler: ((this: WebSocket, event: Event) => unknown) | null): void {
    if (!this.#handlers.has(type)) {
      // Registered once, when first set: like the standard, the handler keeps its place
      // among listeners however often it is replaced.
      this.addEventListener(type, (event) => this.#handlers.get(type)?.call(this, event));
    }
    this.#handlers.set(type, typeof handler === "function" ? handler : null);
  }

  #driver(): SocketDriver {
    return {
      start: (transport) => {
        this.#transport = transport;
        if (this.#closeRequest) return this.#closeRequest;
        this.#readyState = StarlightWebSocket.OPEN;
        this.dispatchEvent(new Event("open"));
      },
      message: (data) => {
        if (this.#readyState !== StarlightWebSocket.OPEN) return;
        this.dispatchEvent(
          new MessageEvent("message", { data: this.#messageData(data), origin: this.#origin }),
        );
      },
      closing: () => {
        this.#readyState = StarlightWebSocket.CLOSING;
      },
      closed: (end) => {
        this.#readyState = StarlightWebSocket.CLOSED;
        if (end.error !== undefined) {
          this.dispatchEvent(new ErrorEvent("error", { message: end.error }));
        }
        const { code, reason, wasClean } = end;
        this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
      },
    };
  }

  #messageData(data: string | Uint8Array<ArrayBuffer>): string | Blob | ArrayBuffer {
    if (typeof data === "string") return data;
    if (this.#binaryType === "blob") return new Blob([data]);
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    return whole ? data.buffer : data.slice().buffer;
  }
}
