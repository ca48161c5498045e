/**
 * Socket reads with one promise per read instead of two.
 *
 * `Deno.Conn.read` is an `async` function around Deno's read op that also keeps the op's
 * promise in a set (for `unref()`), so each read costs a second promise, a resumption and two
 * set operations on top of the op. The connection loop reads once per request, so it calls the
 * op directly: `Deno[Deno.internal].core.read` on the connection's resource id. Both are
 * internal; a connection that lacks them (a TLS or UNIX-relay wrapper, another runtime
 * version) or that overrides `read` is read through `conn.read`.
 *
 * @module
 */

/** Reads into `buffer`; resolves to the bytes read, 0 at end of stream. */
export type SocketRead = (buffer: Uint8Array) => Promise<number>;

type Core = {
  read(rid: number, buffer: Uint8Array): Promise<number>;
  write(rid: number, bytes: Uint8Array): Promise<number>;
};

const internal = Object.getOwnPropertySymbols(Deno).find((s) => s.description === "Deno.internal");
const core = internal === undefined
  ? undefined
  : ((Deno as unknown as Record<symbol, { core?: Core } | undefined>)[internal]?.core);
const coreRead = typeof core?.read === "function" ? core.read : undefined;
/** Deno's write op, for `socket_write.ts`; undefined where the runtime lacks it. */
export const coreWrite: Core["write"] | undefined = typeof core?.write === "function"
  ? core.write
  : undefined;

/** The symbol Deno keeps a connection's resource id under, found on the first connection. */
let ridKey: symbol | undefined;
/** Whether a plain TCP connection was seen without a resource id the op can read. */
let ridMissing = false;

/**
 * The resource id Deno's ops take for `conn`; undefined for a wrapper or a runtime without one.
 *
 * @example
 * ```ts ignore
 * import { ridOf } from "./socket_read.ts";
 * const rid = ridOf(conn); // a number for a plain TCP connection
 * ```
 */
export function ridOf(conn: Deno.Conn): number | undefined {
  const slots = conn as unknown as Record<symbol, unknown>;
  if (ridKey === undefined || !(ridKey in slots)) {
    const key = Object.getOwnPropertySymbols(conn).find((key) =>
      key.description === "Deno.internal.rid"
    );
    if (key === undefined) {
      if (conn.constructor?.name === "TcpConn") ridMissing = true;
      return undefined;
    }
    ridKey = key;
  }
  const rid = slots[ridKey];
  return typeof rid === "number" ? rid : undefined;
}

/**
 * Whether TCP connections are read through the op directly (the fast path): the op exists and
 * no TCP connection seen so far lacked the resource id it needs.
 */
export function socketReadActive(): boolean {
  return coreRead !== undefined && !ridMissing;
}

/**
 * The read function for `conn`.
 *
 * @example
 * ```ts ignore
 * import { socketReader } from "./socket_read.ts";
 * const read = socketReader(conn);
 * const n = await read(buffer); // 0 at end of stream
 * ```
 */
export function socketReader(conn: Deno.Conn): SocketRead {
  const rid = coreRead === undefined ? undefined : ridOf(conn);
  // A wrapper that intercepts `read` (a test's recorder, a proxy) must see every read.
  if (rid === undefined || conn.read !== Object.getPrototypeOf(conn).read) {
    return (buffer) => conn.read(buffer).then((n) => n ?? 0);
  }
  return (buffer) => coreRead!(rid, buffer);
}
