/**
 * `--proxy-protocol`: a listener whose every connection starts with a PROXY protocol header
 * (v1 or v2), as HAProxy's `send-proxy`/`send-proxy-v2` and cloud load balancers send it. The
 * header is read before the engine sees the connection, under a deadline; a connection without
 * a valid one is closed. The engine then gets the connection itself, its `remoteAddr` and
 * `localAddr` replaced by the client and the address the client connected to.
 *
 * Headers are read concurrently: a client that sends its header slowly (or never) holds only
 * its own connection, for at most the deadline, while the others are served. The header is
 * read in exactly the pieces `parseProxyHeader` asks for, so nothing after it is consumed and
 * the engine's own fast reads on the socket stay as they are.
 *
 * @module
 */

import { ListenerBase } from "./listener_base.ts";
import { parseProxyHeader, type ProxyHeader } from "../http/proxy_protocol.ts";
import { closeQuietly } from "./wrapped_listener.ts";

/** Options of {@link ProxyProtocolListener}. */
export interface ProxyListenerOptions {
  /** Milliseconds a connection has to send its whole header. */
  readonly timeout: number;
  /** Connections reading their header at once; beyond it, accepting waits (default 1024). */
  readonly maxPending?: number;
  /** Largest v2 header, TLVs included, in bytes (default 4096). */
  readonly maxV2Length?: number;
  /** Told of each connection closed for want of a valid header (for the log). */
  readonly refused?: (reason: string, peer: Deno.Addr) => void;
}

/** How a refused connection is described. */
const TIMED_OUT = "no complete PROXY protocol header within the timeout";
const ENDED = "the connection ended before a complete PROXY protocol header";

interface Waiter {
  resolve(conn: Deno.Conn): void;
  reject(error: unknown): void;
}

/**
 * A listener over `inner` that reads and checks the PROXY header of each connection.
 *
 * @example
 * ```ts ignore
 * const listener = new ProxyProtocolListener(Deno.listen({ port: 8080 }), {
 *   timeout: 5000,
 *   refused: (reason, peer) => console.warn(reason, peer),
 * });
 * const conn = await listener.accept();
 * console.log(conn.remoteAddr); // the client named by the proxy
 * ```
 */
export class ProxyProtocolListener extends ListenerBase<Deno.Conn> {
  readonly #options: ProxyListenerOptions;
  readonly #maxPending: number;
  /** Connections with a valid header that no `accept()` has taken yet. */
  readonly #ready: Deno.Conn[] = [];
  readonly #waiters: Waiter[] = [];
  /** Connections still sending their header. */
  readonly #pending = new Set<Deno.Conn>();
  #accepting = false;
  #closed = false;

  /** Wraps `inner`; closing this closes it. */
  constructor(inner: Deno.Listener, options: ProxyListenerOptions) {
    super(inner);
    this.#options = options;
    this.#maxPending = options.maxPending ?? 1024;
  }

  /**
   * The next connection with a valid header; rejects as `inner` rejects. After {@link close},
   * connections already taken from the kernel are still handed out once their header is in;
   * then it rejects (`BadResource`). A consumer takes connections until it rejects.
   */
  accept(): Promise<Deno.Conn> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    const { promise, resolve, reject } = Promise.withResolvers<Deno.Conn>();
    this.#waiters.push({ resolve, reject });
    this.#pump();
    this.#endIfDone();
    return promise;
  }

  /** Takes connections from `inner` while someone waits and the pending ones are few enough. */
  #pump(): void {
    if (
      this.#accepting || this.#closed || this.#waiters.length === 0 ||
      this.#pending.size >= this.#maxPending
    ) return;
    this.#accepting = true;
    this.inner.accept().then(
      (conn) => {
        this.#accepting = false;
        // Even when closed meanwhile: its client has sent its request, in a shared accept
        // queue no other worker will see it.
        this.#readHeader(conn);
        this.#pump();
      },
      (error) => {
        this.#accepting = false;
        if (this.#closed) return this.#endIfDone();
        // The engine's accept loop decides (BadResource ends it; others are retried).
        this.#waiters.shift()?.reject(error);
        this.#pump();
      },
    );
  }

  async #readHeader(conn: Deno.Conn): Promise<void> {
    this.#pending.add(conn);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, this.#options.timeout);
    let header: ProxyHeader | undefined;
    let failure = ENDED;
    try {
      header = await readProxyHeader(conn, this.#options.maxV2Length);
      if (header === undefined) failure = timedOut ? TIMED_OUT : ENDED;
    } catch (error) {
      failure = timedOut ? TIMED_OUT : error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      this.#pending.delete(conn);
    }
    if (header === undefined) {
      this.#options.refused?.(failure, conn.remoteAddr);
      closeQuietly(conn);
    } else {
      applyHeader(conn, header);
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.resolve(conn);
      else this.#ready.push(conn);
    }
    this.#pump();
    this.#endIfDone();
  }

  /** Once closed and nothing is left to hand out, every waiting accept rejects. */
  #endIfDone(): void {
    if (!this.#closed || this.#accepting || this.#pending.size > 0 || this.#ready.length > 0) {
      return;
    }
    const closed = new Deno.errors.BadResource("Listener has been closed");
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
  }

  /** Stops accepting; connections whose header is still coming are handed out once it is in. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.inner.close();
    this.#endIfDone();
  }
}

/**
 * `listener` with the PROXY protocol required on each connection (`--proxy-protocol`): a
 * connection without a complete, valid header within `timeout` ms is closed and named once to
 * `warn`, never handed to the engine.
 *
 * @example
 * ```ts ignore
 * const listener = withProxyProtocol(Deno.listen({ port: 8080 }), 30_000, console.warn);
 * ```
 */
export function withProxyProtocol(
  listener: Deno.Listener,
  timeout: number,
  warn: (message: string) => void,
): Deno.Listener {
  return new ProxyProtocolListener(listener, {
    timeout,
    refused: (reason, peer) =>
      warn(`PROXY protocol: ${reason}; closed the connection from ${formatPeer(peer)}`),
  });
}

function formatPeer(peer: Deno.Addr): string {
  if (peer.transport === "unix" || peer.transport === "unixpacket") {
    return peer.path || "a UNIX socket";
  }
  const { hostname, port } = peer as Deno.NetAddr;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Reads the header from `conn`, never a byte past it; undefined when the connection ends
 * first. Throws `ProxyProtocolError` for a malformed header.
 */
export async function readProxyHeader(
  conn: Deno.Conn,
  maxV2Length?: number,
): Promise<ProxyHeader | undefined> {
  let buffer = new Uint8Array(128);
  let length = 0;
  for (;;) {
    const parsed = parseProxyHeader(buffer.subarray(0, length), { maxV2Length });
    if (parsed.done) return parsed.header;
    if (length + parsed.need > buffer.length) {
      const grown = new Uint8Array(length + parsed.need);
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    const n = await conn.read(buffer.subarray(length, length + parsed.need));
    if (n === null) return undefined;
    length += n;
  }
}

/** Gives `conn` the addresses the header names (LOCAL and unknown families keep its own). */
function applyHeader(conn: Deno.Conn, header: ProxyHeader): void {
  if (header.source === null || header.destination === null) return;
  const remote: Deno.NetAddr = {
    transport: "tcp",
    hostname: header.source.hostname,
    port: header.source.port,
  };
  const local: Deno.NetAddr = {
    transport: "tcp",
    hostname: header.destination.hostname,
    port: header.destination.port,
  };
  // Own properties shadow the connection's getters; its methods (and the engine's direct reads
  // through its resource id) are untouched.
  Object.defineProperty(conn, "remoteAddr", { value: remote, configurable: true });
  Object.defineProperty(conn, "localAddr", { value: local, configurable: true });
}
