/**
 * `--proxy-protocol`: a listener whose every connection starts with a PROXY protocol header
 * (v1 or v2), as HAProxy's `send-proxy`/`send-proxy-v2` and cloud load balancers send it. The
 * header is read before the engine sees the connection, under a deadline; a connection without
 * a valid one is closed. The engine then gets the connection itself, its `remoteAddr` and
 * `localAddr` replaced by the client and the address the client connected to.
 *
 * Headers are read concurrently (`checking_listener.ts`): a client that sends its header slowly
 * (or never) holds only its own connection, for at most the deadline, while the others are
 * served; a connection taken before the listener closed is still served. The header is
 * read in exactly the pieces `parseProxyHeader` asks for, so nothing after it is consumed and
 * the engine's own fast reads on the socket stay as they are.
 *
 * @module
 */

import { CheckingListener } from "./checking_listener.ts";
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
export class ProxyProtocolListener extends CheckingListener<Deno.Conn> {
  readonly #options: ProxyListenerOptions;

  /** Wraps `inner`; closing this closes it. */
  constructor(inner: Deno.Listener, options: ProxyListenerOptions) {
    super(inner, options.maxPending ?? 1024);
    this.#options = options;
  }

  /** Reads the header within the deadline; the connection with the addresses it names. */
  protected async check(conn: Deno.Conn): Promise<Deno.Conn | undefined> {
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
    }
    if (header === undefined) {
      this.#options.refused?.(failure, conn.remoteAddr);
      return undefined;
    }
    applyHeader(conn, header);
    return conn;
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
