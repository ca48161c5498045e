/**
 * TLS run by Deno's `node:tls` over a plain TCP listener.
 *
 * Each worker accepts plain TCP (shared or reuseport, like any TCP listener), runs the handshake
 * through a `node:tls` server used only as a handshake engine, and hands the engine a
 * `Deno.Conn` over the secure socket at once. Like a `Deno.TlsConn`, its first read waits for the
 * handshake, so the engine's header timeout bounds a client that never completes it — and, unlike
 * a `Deno.TlsConn`, closing it then really closes the socket. A failed handshake ends only its
 * own connection. Unlike `Deno.listenTls`, it can ask clients for certificates and check them
 * against CAs (`--ssl-verify-mode`), and it works over a shared accept queue.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { closeQuietly, WrappedListener, writeAll } from "./wrapped_listener.ts";

/** How clients must authenticate. */
export interface ClientAuth {
  /** PEM CA certificates client certificates must chain to. */
  ca: string;
  /** Refuse clients without a certificate (verify mode bit 2, FAIL_IF_NO_PEER_CERT). */
  require: boolean;
}

/** Key, certificate and client-certificate rules for {@link openNodeTlsListener}. */
export interface NodeTlsMaterial {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** Client-certificate rules; without them no certificate is asked for. */
  clientAuth: ClientAuth | undefined;
  /** Milliseconds a client may take to complete the handshake. */
  handshakeTimeout: number;
}

/** Byte count above which a connection stops reading until the engine catches up. */
const HIGH_WATER = 256 * 1024;

/** A node stream over a Deno connection: the raw TCP bytes the TLS engine reads and writes. */
function duplexOf(conn: Deno.Conn): Duplex {
  return new Duplex({
    read() {
      const buffer = new Uint8Array(16 * 1024);
      conn.read(buffer).then(
        (n) => this.push(n === null ? null : buffer.subarray(0, n)),
        (error) => this.destroy(error),
      );
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writeAll(conn, chunk).then(() => callback(), callback);
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), () => callback());
    },
    destroy(error, callback) {
      closeQuietly(conn);
      callback(error);
    },
  });
}

/**
 * Serves TLS on `raw`, the plain TCP listener (opened with the usual sharing mode), asking for
 * client certificates if `material.clientAuth` says so.
 */
export function openNodeTlsListener(raw: Deno.Listener, material: NodeTlsMaterial): Deno.Listener {
  const auth = material.clientAuth;
  const require = auth?.require ?? false;
  const server = tls.createServer({
    cert: material.cert,
    key: material.key,
    ...(auth === undefined
      ? {}
      : { ca: [auth.ca], requestCert: true, rejectUnauthorized: require }),
    // A backstop only: the engine's header timeout ends a silent client first.
    handshakeTimeout: material.handshakeTimeout + 1000,
  });
  const conns = new WeakMap<Duplex, NodeTlsConn>();
  const connOf = (socket: tls.TLSSocket) => {
    const stream = streamOf(socket);
    return stream === undefined ? undefined : conns.get(stream);
  };
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    const conn = connOf(socket);
    const peer = socket.getPeerCertificate();
    const presented = peer !== null && typeof peer === "object" && Object.keys(peer).length > 0;
    // Verify mode PEER without FAIL_IF_NO_PEER_CERT: no certificate is fine, a bad one is not.
    if (
      conn === undefined || (auth !== undefined && !socket.authorized && (require || presented))
    ) {
      conn?.fail(
        new Error(`client certificate refused: ${socket.authorizationError ?? "no certificate"}`),
      );
      socket.destroy();
      return;
    }
    conn.attach(socket);
  });
  server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
    connOf(socket)?.fail(error);
    socket.destroy();
  });
  return new WrappedListener(raw, (conn) => {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // Not fatal.
    }
    const duplex = duplexOf(conn);
    duplex.on("error", () => {});
    const secure = new NodeTlsConn(conn, duplex);
    conns.set(duplex, secure);
    server.emit("connection", duplex);
    return secure;
  });
}

/**
 * The stream a `node:tls` server socket wraps. Deno's polyfill keeps it on the TLS handle; if
 * that ever changes, connections still work but report no client address.
 */
function streamOf(socket: tls.TLSSocket): Duplex | undefined {
  const handle = (socket as unknown as { _handle?: { _parentWrap?: { stream?: Duplex } } })._handle;
  return handle?._parentWrap?.stream;
}

function denoError(error: unknown): Error {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "EPIPE") return new Deno.errors.BrokenPipe(message);
  return new Deno.errors.ConnectionReset(message);
}

/**
 * A `Deno.Conn` over a `node:tls` server socket, as the engine expects one: reads and writes
 * wait for the handshake.
 */
export class NodeTlsConn implements Deno.Conn<Deno.NetAddr> {
  /** The server's address. */
  readonly localAddr: Deno.NetAddr;
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  readonly #raw: Deno.Conn;
  readonly #duplex: Duplex;
  #socket: tls.TLSSocket | undefined;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #closed = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  /** Wraps the raw connection `raw`, whose bytes the TLS engine reads through `duplex`. */
  constructor(raw: Deno.Conn, duplex: Duplex) {
    this.#raw = raw;
    this.#duplex = duplex;
    this.localAddr = raw.localAddr as Deno.NetAddr;
    this.remoteAddr = raw.remoteAddr as Deno.NetAddr;
  }

  /** The handshake is done and the client accepted. */
  attach(socket: tls.TLSSocket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#buffered += chunk.byteLength;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#wakeUp();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wakeUp();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wakeUp();
    });
    socket.on("error", (error: unknown) => {
      this.#error ??= error;
      this.#wakeUp();
    });
    this.#wakeUp();
  }

  /** The handshake failed or the client was refused. */
  fail(error: unknown): void {
    this.#error ??= error;
    this.#wakeUp();
  }

  /** Settles once the handshake is done and the client accepted; rejects if it failed. */
  async handshake(): Promise<void> {
    while (this.#socket === undefined) {
      if (this.#closed) throw new Deno.errors.BadResource("connection closed");
      if (this.#error !== undefined) throw denoError(this.#error);
      await this.#wait();
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #wait(): Promise<void> {
    return new Promise<void>((resolve) => this.#wake = resolve);
  }

  /** Reads decrypted bytes; `null` at the end of the stream. */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) throw new Deno.errors.BadResource("connection closed");
      if (this.#error !== undefined) throw denoError(this.#error);
      if (this.#ended) return null;
      await this.#wait();
    }
    const chunk = this.#chunks[0];
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER / 2 && this.#socket?.isPaused()) this.#socket.resume();
    return n;
  }

  /** Encrypts and sends all of `p` (copied: the engine reuses its buffers). */
  async write(p: Uint8Array): Promise<number> {
    while (this.#socket === undefined) {
      if (this.#closed) throw new Deno.errors.BadResource("connection closed");
      if (this.#error !== undefined) throw denoError(this.#error);
      await this.#wait();
    }
    const socket = this.#socket;
    if (this.#closed) throw new Deno.errors.BadResource("connection closed");
    if (socket.destroyed || this.#error !== undefined) {
      throw denoError(this.#error ?? Object.assign(new Error("Broken pipe"), { code: "EPIPE" }));
    }
    if (!socket.write(Buffer.from(p))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    }
    return p.length;
  }

  /** Closes the connection (during the handshake too). */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("connection closed");
    this.#closed = true;
    this.#socket?.destroy();
    this.#duplex.destroy();
    closeQuietly(this.#raw);
    this.#wakeUp();
  }

  /** Sends close_notify and shuts down the write side. */
  closeWrite(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) return this.#raw.closeWrite();
    return new Promise((resolve) => socket.end(() => resolve()));
  }

  /** `TCP_NODELAY` on the underlying connection (already set when it was accepted). */
  setNoDelay(noDelay = true): void {
    try {
      (this.#raw as Deno.TcpConn).setNoDelay(noDelay);
    } catch {
      // Closed.
    }
  }

  /** Keeps the event loop alive. */
  ref(): void {
    this.#raw.ref();
  }

  /** Lets the event loop end. */
  unref(): void {
    this.#raw.unref();
  }

  /** The decrypted bytes as a stream. */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        const buffer = new Uint8Array(16 * 1024);
        try {
          const n = await this.read(buffer);
          if (n === null) controller.close();
          else controller.enqueue(buffer.subarray(0, n));
        } catch (error) {
          controller.error(error);
        }
      },
    });
  }

  /** The outgoing bytes as a stream. */
  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    return new WritableStream<Uint8Array<ArrayBufferLike>>({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: () => this.closeWrite(),
    });
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }
}
