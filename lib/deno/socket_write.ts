/**
 * Socket writes without the public wrapper: the connection loop writes once per response, and
 * `Deno.Conn.write` adds two calls (the method, then `ext/net`'s `write(rid, bytes)`) around
 * Deno's write op. Measured in bench/AB.md ("direct write op"). The same probe and fallback as
 * `socket_read.ts`: a connection without a resource id, or one whose `write` is overridden (a
 * TLS or relay wrapper, a test's recorder), is written through `conn.write`.
 *
 * @module
 */

import { coreWrite, ridOf, socketReadActive } from "./socket_read.ts";

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

/**
 * Whether socket writes go through Deno's write op (`coreWrite` was found and, once a plain TCP
 * connection was seen, its resource id too), for the start-up report of `fast_paths.ts`.
 *
 * @example
 * ```ts
 * import { socketWriteActive } from "./socket_write.ts";
 * socketWriteActive(); // true on the Deno version this Starlight was checked on
 * ```
 */
export function socketWriteActive(): boolean {
  return coreWrite !== undefined && socketReadActive();
}
