/**
 * Connections without sockets: a `Deno.Conn` held in memory, where the test plays the client
 * (sends bytes, half-closes, reads what the server wrote), and a listener that hands such
 * connections to the engine (`memory_engine.ts` starts one on it). Also the endless connection
 * `bench/engine_loop.ts` drives the loop with. Nothing here imports the engine, so the bench can
 * drive another checkout's.
 *
 * @module
 */

import { Changes } from "./changes.ts";

const ADDRESS: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 8080 };
const PEER: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };

/** How an in-memory connection treats the server's writes. */
export interface MemoryConnOptions {
  /**
   * Writes complete a macrotask later and take their bytes only then, as a socket that must
   * wait for room does: a buffer changed while its write is in flight shows in what arrives.
   */
  slowWrites?: boolean;
}

/** One in-memory connection: the server side is a `Deno.Conn`, the test is the client. */
export class MemoryConn {
  /** What the server wrote, one character per byte. */
  received = "";
  /** The server closed the connection. */
  serverClosed = false;
  /** When the server closed it (ms since epoch). */
  closedAt = 0;
  readonly #inbox: Uint8Array[] = [];
  #ended = false;
  #waiting:
    | { buffer: Uint8Array; resolve: (n: number | null) => void; reject(e: Error): void }
    | null = null;
  readonly #changes = new Changes();
  readonly #slowWrites: boolean;

  /** A connection whose writes behave as `options` says. */
  constructor(options: MemoryConnOptions = {}) {
    this.#slowWrites = options.slowWrites ?? false;
  }

  /** The `Deno.Conn` the server reads and writes. */
  readonly conn: Deno.Conn = {
    localAddr: ADDRESS,
    remoteAddr: PEER,
    read: (buffer: Uint8Array) => this.#serverRead(buffer),
    write: (bytes: Uint8Array) => this.#serverWrite(bytes),
    close: () => this.#serverClose(),
    closeWrite: () => Promise.resolve(),
    setNoDelay: () => {},
    setKeepAlive: () => {},
    ref: () => {},
    unref: () => {},
  } as unknown as Deno.Conn;

  /** Bytes sent that the server has not read yet. */
  get unread(): number {
    return this.#inbox.reduce((n, bytes) => n + bytes.length, 0);
  }

  /** Sends `data` (a string is one byte per character) to the server. */
  send(data: string | Uint8Array): void {
    if (this.#ended) throw new Error("sent after end()");
    const bytes = typeof data === "string" ? latin1Bytes(data) : data;
    if (bytes.length > 0) this.#inbox.push(bytes);
    this.#deliver();
  }

  /** Ends the client's side (a FIN): the server's next read sees the end of the stream. */
  end(): void {
    this.#ended = true;
    this.#deliver();
  }

  /** Waits until `ready()` holds; false if `ms` passed first. */
  until(ready: () => boolean, ms = 3000): Promise<boolean> {
    return this.#changes.until(ready, ms);
  }

  /** Waits until the server has written `count` occurrences of `text`; throws after `ms`. */
  async untilReceived(text: string, count = 1, ms = 3000): Promise<void> {
    const ok = await this.until(() => this.received.split(text).length - 1 >= count, ms);
    if (!ok) throw new Error(`${JSON.stringify(text)} ×${count} not received: ${this.received}`);
  }

  #deliver(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    const n = this.#take(waiting.buffer);
    if (n === undefined) return;
    this.#waiting = null;
    waiting.resolve(n);
  }

  /** Moves queued bytes into `buffer`: the count, null at the end, undefined when none yet. */
  #take(buffer: Uint8Array): number | null | undefined {
    if (this.#inbox.length === 0) return this.#ended ? null : undefined;
    const first = this.#inbox[0];
    const n = Math.min(buffer.length, first.length);
    buffer.set(first.subarray(0, n));
    if (n === first.length) this.#inbox.shift();
    else this.#inbox[0] = first.subarray(n);
    return n;
  }

  #serverRead(buffer: Uint8Array): Promise<number | null> {
    if (this.serverClosed) return Promise.reject(new Deno.errors.BadResource("closed"));
    const n = this.#take(buffer);
    if (n !== undefined) return Promise.resolve(n);
    return new Promise((resolve, reject) => this.#waiting = { buffer, resolve, reject });
  }

  #serverWrite(bytes: Uint8Array): Promise<number> {
    if (this.serverClosed) return Promise.reject(new Deno.errors.BadResource("closed"));
    if (!this.#slowWrites) {
      this.received += latin1(bytes);
      this.#changes.notify();
      return Promise.resolve(bytes.length);
    }
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        if (this.serverClosed) return reject(new Deno.errors.BadResource("closed"));
        this.received += latin1(bytes);
        this.#changes.notify();
        resolve(bytes.length);
      }, 0)
    );
  }

  #serverClose(): void {
    if (this.serverClosed) throw new Deno.errors.BadResource("closed twice");
    this.serverClosed = true;
    this.closedAt = Date.now();
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(new Deno.errors.BadResource("closed"));
    this.#changes.notify();
  }
}

/** A listener that hands the engine the connections a test makes with `connect()`. */
export class MemoryListener {
  readonly #queue: Deno.Conn[] = [];
  #waiting: ((conn: Deno.Conn | null) => void) | null = null;
  #closed = false;

  /** The `Deno.Listener` the server accepts from. */
  readonly listener: Deno.Listener = {
    addr: ADDRESS,
    accept: () => this.#accept(),
    close: () => this.#close(),
    ref: () => {},
    unref: () => {},
  } as unknown as Deno.Listener;

  /** A new connection, accepted by the server at once. */
  connect(options?: MemoryConnOptions): MemoryConn {
    const conn = new MemoryConn(options);
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting(conn.conn);
    } else {
      this.#queue.push(conn.conn);
    }
    return conn;
  }

  #accept(): Promise<Deno.Conn> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiting = (conn) =>
        conn === null ? reject(new Deno.errors.BadResource("listener closed")) : resolve(conn);
    });
  }

  #close(): void {
    this.#closed = true;
    this.#waiting?.(null);
    this.#waiting = null;
  }
}

/**
 * A connection whose client sends `request` over and over, `times` times in all, as much as
 * each read takes, and swallows what the server writes: the engine's loop with nothing else
 * in the way (see `bench/engine_loop.ts`).
 */
export function repeatingConn(request: Uint8Array, times: number): Deno.Conn {
  let left = times;
  let at = 0;
  return {
    remoteAddr: PEER,
    localAddr: ADDRESS,
    read(buffer: Uint8Array) {
      if (at === 0 && left-- <= 0) return Promise.resolve(null);
      const n = Math.min(buffer.length, request.length - at);
      buffer.set(request.subarray(at, at + n));
      at = (at + n) % request.length;
      return Promise.resolve(n);
    },
    write: (bytes: Uint8Array) => Promise.resolve(bytes.length),
    close() {},
  } as unknown as Deno.Conn;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, bytes.length)));
  }
  return s;
}
