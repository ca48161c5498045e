/**
 * The worker's side of the UNIX-socket relay (see `unix_relay.ts`): a loopback TCP listener
 * shared by every worker, on which only the supervisor's relay is served. Each relayed
 * connection starts with a preamble — the relay's secret token and the index of the public socket
 * the client used — so a local user who finds the loopback port cannot bypass the socket's file
 * permissions: without the token the connection is closed before any HTTP is read.
 *
 * @module
 */

import { closeQuietly, WrappedListener } from "./wrapped_listener.ts";
import type { ListenSpec, RelayListenSpec } from "./spec.ts";

/** Bytes of the token on the wire. */
export const RELAY_TOKEN_BYTES = 32;
/** Token, then one byte: the index of the public socket. */
export const RELAY_PREAMBLE_BYTES = RELAY_TOKEN_BYTES + 1;
/**
 * How long a connection may take to send its preamble. The relay sends it with its first write,
 * so it arrives at once; this only bounds how long a stranger can hold up this worker's accept.
 */
const PREAMBLE_TIMEOUT = 1000;

/** Hex → bytes. */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** The address a relayed connection reports: the public socket, as a direct one would. */
function socketAddr(spec: ListenSpec | undefined): Deno.UnixAddr {
  if (spec?.kind === "abstract") return { transport: "unix", path: "\0" + spec.name };
  return { transport: "unix", path: spec?.kind === "unix" ? spec.path : "" };
}

/** Opens the relay listener (always one shared accept queue: nothing is lost on restarts). */
export function openRelayListener(spec: RelayListenSpec, shared: boolean): Deno.Listener {
  const options = { hostname: spec.hostname, port: spec.port, loadBalanced: shared };
  const token = fromHex(spec.relay.token);
  return new WrappedListener(
    Deno.listen(options as Deno.TcpListenOptions),
    (conn) => verify(conn as Deno.TcpConn, token, spec.relay.sockets),
  );
}

/** Reads and checks the preamble; closes the connection and resolves `undefined` if wrong. */
async function verify(
  conn: Deno.TcpConn,
  token: Uint8Array,
  sockets: ListenSpec[],
): Promise<Deno.Conn | undefined> {
  const buffer = new Uint8Array(4096);
  let filled = 0;
  const timer = setTimeout(() => closeQuietly(conn), PREAMBLE_TIMEOUT);
  try {
    while (filled < RELAY_PREAMBLE_BYTES) {
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) throw new Error("closed");
      filled += n;
    }
  } catch {
    closeQuietly(conn);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  let difference = 0;
  for (let i = 0; i < RELAY_TOKEN_BYTES; i++) difference |= buffer[i] ^ token[i];
  const index = buffer[RELAY_TOKEN_BYTES];
  if (difference !== 0 || index >= sockets.length) {
    closeQuietly(conn);
    return undefined;
  }
  try {
    conn.setNoDelay(true);
  } catch {
    // Not fatal.
  }
  const addr = socketAddr(sockets[index]);
  return new RelayedConn(conn, buffer.slice(RELAY_PREAMBLE_BYTES, filled), addr);
}

/**
 * A relayed connection as the engine sees it: a UNIX connection (remote address `-` in the
 * access log) whose first bytes may already have been read with the preamble.
 */
export class RelayedConn implements Deno.Conn<Deno.UnixAddr> {
  /** The public socket the client connected to. */
  readonly localAddr: Deno.UnixAddr;
  /** A UNIX peer has no address. */
  readonly remoteAddr: Deno.UnixAddr;
  readonly #inner: Deno.TcpConn;
  #prefix: Uint8Array | undefined;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;

  /** Wraps the loopback connection `inner`; `prefix` holds bytes read past the preamble. */
  constructor(inner: Deno.TcpConn, prefix: Uint8Array, addr: Deno.UnixAddr) {
    this.#inner = inner;
    this.#prefix = prefix.length > 0 ? prefix : undefined;
    this.localAddr = addr;
    this.remoteAddr = { transport: "unix", path: "" };
  }

  /** Reads the bytes left over from the preamble first, then from the socket. */
  read(p: Uint8Array): Promise<number | null> {
    const prefix = this.#prefix;
    if (prefix === undefined) return this.#inner.read(p);
    const n = Math.min(p.length, prefix.length);
    p.set(prefix.subarray(0, n));
    this.#prefix = n < prefix.length ? prefix.subarray(n) : undefined;
    return Promise.resolve(n);
  }

  /** Writes to the relay, which forwards to the client. */
  write(p: Uint8Array): Promise<number> {
    return this.#inner.write(p);
  }

  /** Closes the connection (the relay then closes the client's). */
  close(): void {
    this.#inner.close();
  }

  /** Half-closes the connection. */
  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }

  /** Keeps the event loop alive. */
  ref(): void {
    this.#inner.ref();
  }

  /** Lets the event loop end. */
  unref(): void {
    this.#inner.unref();
  }

  /** The incoming bytes as a stream (prefix first). */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#readable !== undefined) return this.#readable;
    const prefix = this.#prefix;
    this.#prefix = undefined;
    if (prefix === undefined) return this.#readable = this.#inner.readable;
    const rest = this.#inner.readable;
    return this.#readable = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        controller.enqueue(prefix.slice());
      },
      async pull(controller) {
        const reader = rest.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            controller.enqueue(value);
          }
          controller.close();
        } catch (error) {
          controller.error(error);
        } finally {
          reader.releaseLock();
        }
      },
      cancel(why) {
        return rest.cancel(why);
      },
    });
  }

  /** The outgoing bytes as a stream. */
  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    return this.#inner.writable;
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    closeQuietly(this.#inner);
  }
}
