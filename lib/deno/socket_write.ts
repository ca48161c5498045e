/**
 * Socket writes without the public wrapper: the connection loop writes once per response, and
 * `Deno.Conn.write` adds two calls (the method, then `ext/net`'s `write(rid, bytes)`) around
 * Deno's write op. Measured in bench/AB.md ("direct write op"). The same probe and fallback as
 * `socket_read.ts`: a connection without a resource id, or one whose `write` is overridden (a
 * TLS or relay wrapper, a test's recorder), is written through `conn.write`.
 *
 * @module
 */

import { coreWrite, ridOf } from "./socket_read.ts";

/** Writes some of `bytes`; resolves to how many went out. */
export type SocketWrite = (bytes: Uint8Array) => Promise<number>;

/**
 * The write function for `conn`.
 *
 * @example
 * ```ts ignore
 * import { socketWriter } from "./socket_write.ts";
 * const write = socketWriter(conn);
 * const n = await write(bytes); // may be fewer than bytes.length
 * ```
 */
export function socketWriter(conn: Deno.Conn): SocketWrite {
  const rid = coreWrite === undefined ? undefined : ridOf(conn);
  if (rid === undefined || conn.write !== Object.getPrototypeOf(conn).write) {
    return (bytes) => conn.write(bytes);
  }
  return (bytes) => coreWrite!(rid, bytes);
}
