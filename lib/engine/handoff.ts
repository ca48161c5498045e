/**
 * The hand-off between the connection loop and a protocol that takes the connection over
 * (WebSocket). A handler returns an ordinary `Response` carrying {@link upgradeKey}; the loop
 * writes `101 Switching Protocols` with the given headers, then gives the raw connection away.
 *
 * @module
 */

/** Marks a `Response` as a protocol switch; its value is an {@link Upgrade}. */
export const upgradeKey: unique symbol = Symbol.for("starlight.upgrade");

/** A switch of protocol requested by the app. */
export interface Upgrade {
  /** Headers of the `101` response (`Upgrade`, `Connection`, `Sec-WebSocket-Accept`, …). */
  readonly headers: Headers;
  /**
   * Takes the connection over once the `101` head is written. `head` holds bytes the client sent
   * after the request (already read by the loop). `drain` aborts when the worker shuts down or
   * retires. The connection counts as active until the promise settles; the owner closes `conn`.
   */
  run(conn: Deno.Conn, head: Uint8Array, drain: AbortSignal): Promise<void>;
}

/** A `Response` that may carry an {@link Upgrade}. */
export type UpgradableResponse = Response & { [upgradeKey]?: Upgrade };
