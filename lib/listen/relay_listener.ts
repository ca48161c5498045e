/**
 * The worker's side of a relay (the supervisor's UNIX-socket relay, `unix_relay.ts`, and the TLS
 * fronts, `tls_fronts.ts`): a loopback TCP listener shared by every worker, on which only
 * relayed connections are served. Each one starts with a preamble (`relay_preamble.ts`): the
 * relay's secret token, the public listener the client used and, behind a TLS front, the
 * client's real address. A local user who finds the loopback port therefore cannot get around a
 * socket file's permissions, a client certificate check, or claim another address: without the
 * token the connection is closed before any HTTP is read.
 *
 * Preambles are awaited concurrently: a stranger who connects and sends nothing holds up no one
 * (issue 13, item 15).
 *
 * @module
 */

import { CheckingListener } from "./checking_listener.ts";
import { listenShared } from "../deno/shared_listen.ts";
import { closeQuietly } from "./wrapped_listener.ts";
import type { ListenSpec, RelayListenSpec } from "./spec.ts";
import {
  decodePreamble,
  fromHex,
  MAX_PREAMBLE_BYTES,
  RELAY_TOKEN_BYTES,
} from "./relay_preamble.ts";

/**
 * How long a connection may take to send its preamble. A relay sends it with its first write,
 * so it arrives at once; this only bounds what a stranger's silent connection costs.
 */
const PREAMBLE_TIMEOUT = 1000;
/**
 * Connections whose preamble is awaited at once, per worker. Honest ones settle within a
 * millisecond; past this many (strangers' silent connections), accepting waits for some to end.
 */
const MAX_PENDING = 1024;

/** The address a relayed UNIX connection reports: the public socket, as a direct one would. */
function socketAddr(spec: ListenSpec | undefined): Deno.UnixAddr {
  if (spec?.kind === "abstract") return { transport: "unix", path: "\0" + spec.name };
  return { transport: "unix", path: spec?.kind === "unix" ? spec.path : "" };
}

/**
 * Opens the relay listener: one shared accept queue among thread workers (nothing lost on
 * restarts), a `reusePort` socket per process worker, or a plain one.
 */
export function openRelayListener(
  spec: RelayListenSpec,
  how: "shared" | "reuseport" | "single",
): Deno.Listener {
  const options = { hostname: spec.hostname, port: spec.port };
  return new RelayListener(
    how === "shared"
      ? listenShared(options)
      : Deno.listen({ ...options, reusePort: how === "reuseport" } as Deno.TcpListenOptions),
    fromHex(spec.relay.token),
    spec.relay.routes,
  );
}

/**
 * A listener whose connections are relayed ones with a valid preamble. Preambles are checked
 * concurrently (`checking_listener.ts`), so the next verified connection is handed out whichever
 * stranger is still silent, and one taken before the listener closed is still served.
 *
 * @example
 * ```ts ignore
 * const listener = new RelayListener(Deno.listen({ hostname: "127.0.0.1", port: 0 }), token, routes);
 * const conn = await listener.accept(); // conn.remoteAddr: the client behind the relay
 * ```
 */
export class RelayListener extends CheckingListener<Deno.TcpConn> {
  readonly #token: Uint8Array;
  readonly #routes: ListenSpec[];

  /** Serves relayed connections from `inner`, checking them against `token` and `routes`. */
  constructor(inner: Deno.Listener, token: Uint8Array, routes: ListenSpec[]) {
    super(inner, MAX_PENDING);
    this.#token = token;
    this.#routes = routes;
  }

  /** Reads and checks the preamble. */
  protected check(conn: Deno.Conn): Promise<Deno.TcpConn | undefined> {
    return verify(conn as Deno.TcpConn, this.#token, this.#routes);
  }
}

/**
 * Reads and checks the preamble; closes the connection and resolves `undefined` if wrong. It
 * reads exactly the preamble's bytes (a few small reads), so the connection handed on is the
 * loopback connection itself, its addresses replaced by the preamble's: the engine then reads
 * it with no wrapper in between.
 */
async function verify(
  conn: Deno.TcpConn,
  token: Uint8Array,
  routes: ListenSpec[],
): Promise<Deno.TcpConn | undefined> {
  const buffer = new Uint8Array(MAX_PREAMBLE_BYTES);
  let filled = 0;
  // Token, route and the first address's length; then each address says how much follows.
  let wanted = RELAY_TOKEN_BYTES + 2;
  const timer = setTimeout(() => closeQuietly(conn), PREAMBLE_TIMEOUT);
  try {
    for (;;) {
      const n = await conn.read(buffer.subarray(filled, wanted));
      if (n === null) throw new Error("closed");
      filled += n;
      if (filled < wanted) continue;
      const preamble = decodePreamble(buffer.subarray(0, filled), token, routes.length);
      if (preamble === undefined) throw new Error("not a relay");
      if (preamble === null) {
        wanted = preambleNeeds(buffer, filled);
        continue;
      }
      clearTimeout(timer);
      try {
        conn.setNoDelay(true);
      } catch {
        // Not fatal.
      }
      const route = routes[preamble.route];
      return Object.defineProperties(conn, {
        localAddr: { value: preamble.local ?? socketAddr(route) },
        remoteAddr: { value: preamble.remote ?? { transport: "unix", path: "" } },
      });
    }
  } catch {
    clearTimeout(timer);
    closeQuietly(conn);
    return undefined;
  }
}

/**
 * How many bytes the preamble in `buffer[0, filled)` needs at least, `filled` being a point
 * where it is incomplete: the end of the address whose length byte is in, plus the next
 * length byte if another address follows.
 */
function preambleNeeds(buffer: Uint8Array, filled: number): number {
  let at = RELAY_TOKEN_BYTES + 1;
  for (let address = 0; address < 2; address++) {
    if (at >= filled) return at + 1;
    at += 1 + (buffer[at] === 0 ? 0 : buffer[at] + 2);
  }
  return at;
}
