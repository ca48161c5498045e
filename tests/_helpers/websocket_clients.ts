/**
 * WebSocket clients for the end-to-end tests, each with an inbox and a bounded wait: Deno's
 * own `WebSocket`, the `ws` package, and a raw TCP client that speaks hand-made frames.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import {
  clientFrame,
  closeCodeOf,
  concat,
  rawConnect,
  readFrames,
  type ServerFrame,
  within,
  writeAll,
} from "./websocket_fixture.ts";
import { Opcode } from "../../lib/websocket/frame.ts";

export { clientFrame, closeCodeOf, concat, Opcode, type ServerFrame, within, writeAll };

/** How long any single wait for the network may take before the test fails. */
export const WAIT_MS = 5000;

/** A queue whose `next` waits (boundedly) for the next item. */
class Inbox<T> {
  readonly #items: T[] = [];
  #waiters: (() => void)[] = [];

  push(item: T): void {
    this.#items.push(item);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  get size(): number {
    return this.#items.length;
  }

  /** Takes the next item, waiting for it at most `ms` (concurrent calls each get their own). */
  next(what: string, ms = WAIT_MS): Promise<T> {
    return within(
      ms,
      (async () => {
        while (this.#items.length === 0) {
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
        return this.#items.shift()!;
      })(),
      what,
    );
  }
}

/** How a client saw its connection end. */
export interface Closed {
  /** The close code (1005: none, 1006: no close frame). */
  code: number;
  /** The close reason. */
  reason: string;
  /** Whether the closing handshake completed. */
  wasClean: boolean;
}

/** Deno's built-in `WebSocket`, with an inbox. */
export class DenoClient {
  /** The socket. */
  readonly socket: globalThis.WebSocket;
  /** Settles when the socket closes. */
  readonly closed: Promise<Closed>;
  readonly #inbox = new Inbox<string | ArrayBuffer>();

  private constructor(socket: globalThis.WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this.#inbox.push(event.data);
    this.closed = new Promise((resolve) => {
      socket.onclose = ({ code, reason, wasClean }) => resolve({ code, reason, wasClean });
    });
  }

  /** Opens `url` and waits for `open`. */
  static async open(url: string, protocols?: string | string[]): Promise<DenoClient> {
    const client = new DenoClient(new globalThis.WebSocket(url, protocols));
    const opened = new Promise<void>((resolve, reject) => {
      client.socket.onopen = () => resolve();
      client.socket.onerror = (event) =>
        reject(new Error(`WebSocket ${url}: ${(event as ErrorEvent).message ?? "error"}`));
    });
    try {
      await within(WAIT_MS, opened, `Deno WebSocket open ${url}`);
    } catch (error) {
      client.socket.close();
      await within(WAIT_MS, client.closed, "Deno WebSocket close after a failed open");
      throw error;
    }
    return client;
  }

  /** The next message. */
  next(ms?: number): Promise<string | ArrayBuffer> {
    return this.#inbox.next("Deno WebSocket message", ms);
  }

  /** Sends and waits for the next message. */
  async ask(data: string | Uint8Array<ArrayBuffer>): Promise<string | ArrayBuffer> {
    this.socket.send(data);
    return await this.next();
  }

  /** Closes (if still open) and waits for the `close` event. */
  async close(code?: number, reason?: string): Promise<Closed> {
    if (this.socket.readyState <= globalThis.WebSocket.OPEN) this.socket.close(code, reason);
    return await within(WAIT_MS, this.closed, "Deno WebSocket close");
  }
}

/** One message as the `ws` client got it. */
export interface WsMessage {
  /** The payload. */
  data: Buffer;
  /** Binary (true) or text. */
  isBinary: boolean;
}

/** A client of the `ws` package, with an inbox and the `101`'s headers. */
export class WsClient {
  /** The socket. */
  readonly socket: WebSocket;
  /** Settles when the socket closes. */
  readonly closed: Promise<Closed>;
  /** Headers of the `101 Switching Protocols`. */
  headers: Record<string, string | string[] | undefined> = {};
  /** Payloads of the pings the server sent (answered automatically by `ws`). */
  readonly pings: string[] = [];
  readonly #inbox = new Inbox<WsMessage>();
  readonly #pongs = new Inbox<string>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data: Buffer, isBinary: boolean) => this.#inbox.push({ data, isBinary }));
    socket.on("ping", (data: Buffer) => this.pings.push(data.toString()));
    socket.on("pong", (data: Buffer) => this.#pongs.push(data.toString()));
    socket.on("upgrade", (response: IncomingMessage) => this.headers = response.headers);
    this.closed = new Promise((resolve) =>
      socket.on(
        "close",
        (code: number, reason: Buffer) =>
          resolve({ code, reason: reason.toString(), wasClean: code !== 1006 }),
      )
    );
  }

  /** Opens `url` and waits for `open`. */
  static async open(
    url: string,
    options: ConstructorParameters<typeof WebSocket>[2] = {},
    protocols?: string[],
  ): Promise<WsClient> {
    const client = new WsClient(new WebSocket(url, protocols, options));
    const opened = new Promise<void>((resolve, reject) => {
      client.socket.once("open", () => resolve());
      client.socket.once("error", reject);
    });
    try {
      await within(WAIT_MS, opened, `ws open ${url}`);
    } catch (error) {
      client.socket.terminate();
      await within(WAIT_MS, client.closed, "ws close after a failed open");
      throw error;
    }
    return client;
  }

  /** The worker that took this socket (the `x-worker` header of its `101`). */
  get worker(): string {
    return String(this.headers["x-worker"] ?? "");
  }

  /** The next message. */
  next(ms?: number): Promise<WsMessage> {
    return this.#inbox.next("ws message", ms);
  }

  /** The payload of the next pong. */
  pong(): Promise<string> {
    return this.#pongs.next("ws pong");
  }

  /** Sends text and waits for the next message, as text. */
  async ask(text: string): Promise<string> {
    this.socket.send(text);
    return (await this.next()).data.toString();
  }

  /** Closes (if still open) and waits for the `close` event. */
  async close(code?: number, reason?: string): Promise<Closed> {
    if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(code, reason);
    return await within(WAIT_MS, this.closed, "ws close");
  }
}

/** A raw TCP client after a handshake, reading server frames. */
export class RawClient {
  /** The connection. */
  readonly conn: Deno.Conn;
  /** The response head. */
  readonly head: string;
  #rest: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.Conn, head: string, rest: Uint8Array) {
    this.conn = conn;
    this.head = head;
    this.#rest = rest;
  }

  /** Connects and sends a WebSocket handshake for `path`. */
  static async open(
    port: number,
    path = "/",
    headers: Record<string, string | null> = {},
  ): Promise<RawClient> {
    const { conn, head, rest } = await within(
      WAIT_MS,
      rawConnect(port, headers, `GET ${path} HTTP/1.1`),
      "raw handshake",
    );
    return new RawClient(conn, head, rest);
  }

  /** Sends bytes (frames made with {@link clientFrame}). */
  async send(...frames: Uint8Array[]): Promise<void> {
    await writeAll(this.conn, concat(frames));
  }

  /** The next `count` server frames. */
  async frames(count = 1, ms = WAIT_MS): Promise<ServerFrame[]> {
    const { frames, rest } = await within(ms, readFrames(this.conn, count, this.#rest), "frames");
    // readFrames may return more than asked: keep the extra ones for the next call.
    this.#rest = concat([...frames.slice(count).map(reencode), rest]);
    return frames.slice(0, count);
  }

  /**
   * Reads until the server closes the TCP connection; returns the frames received meanwhile
   * (whole ones) and how long the server took.
   */
  async untilHangUp(ms = WAIT_MS): Promise<{ frames: ServerFrame[]; ms: number }> {
    const started = performance.now();
    const parts: Uint8Array[] = [this.#rest];
    const buffer = new Uint8Array(64 * 1024);
    const read = async () => {
      try {
        for (;;) {
          const n = await this.conn.read(buffer);
          if (n === null) return;
          parts.push(buffer.slice(0, n));
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      }
    };
    try {
      await within(ms, read(), "server hang-up");
    } finally {
      this.close();
    }
    // With a count of 0, readFrames only parses the whole frames it is given.
    const { frames } = await readFrames(NO_CONN, 0, concat(parts));
    return { frames, ms: performance.now() - started };
  }

  /** Closes our end (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Never read from: `readFrames` with a count of 0 returns before reading. */
const NO_CONN = {} as Deno.Conn;

function reencode(frame: ServerFrame): Uint8Array {
  const length = frame.payload.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(head + length);
  out[0] = (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | frame.opcode;
  const view = new DataView(out.buffer);
  if (head === 2) out[1] = length;
  else if (head === 4) {
    out[1] = 126;
    view.setUint16(2, length);
  } else {
    out[1] = 127;
    view.setBigUint64(2, BigInt(length));
  }
  out.set(frame.payload, head);
  return out;
}

/** A close frame from the client, with `code` (and `reason`). */
export function closeFrame(code?: number, reason = ""): Uint8Array {
  if (code === undefined) return clientFrame(Opcode.Close, new Uint8Array(0));
  const text = new TextEncoder().encode(reason);
  const payload = new Uint8Array(2 + text.length);
  new DataView(payload.buffer).setUint16(0, code);
  payload.set(text, 2);
  return clientFrame(Opcode.Close, payload);
}

/** The reason text of a close frame. */
export function closeReasonOf(frame: ServerFrame): string {
  return new TextDecoder().decode(frame.payload.subarray(2));
}
