/**
 * Taking the next connection from a listener, for either engine's accept loop: the errors a
 * client can cause (a reset before the accept, a failed TLS handshake) are skipped, others are
 * reported and retried after a pause, and a closed listener ends the loop.
 *
 * @module
 */

import { isDisconnect } from "./response_writer.ts";

/** What an accept loop's server offers. */
export interface AcceptHost {
  /** Set once the server drains: a failing accept then ends the loop. */
  readonly draining: boolean;
  /** Reports a problem worth an operator's attention. */
  warn(message: string, error?: unknown): void;
}

/** Pause after an accept failed for a reason of the server's (out of descriptors, …). */
const RETRY_PAUSE = 50;

/**
 * The next connection from `listener` (TCP ones with Nagle's algorithm off), or undefined once
 * the listener is closed.
 *
 * @example
 * ```ts ignore
 * import { acceptNext } from "./accept.ts";
 * for (let conn; (conn = await acceptNext(listener, server)) !== undefined;) serve(conn);
 * ```
 */
export async function acceptNext(
  listener: Deno.Listener,
  host: AcceptHost,
): Promise<Deno.Conn | undefined> {
  for (;;) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (host.draining || error instanceof Deno.errors.BadResource) return undefined;
      if (isDisconnect(error) || error instanceof Deno.errors.InvalidData) continue;
      host.warn("accept failed", error);
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE));
      continue;
    }
    if (conn.remoteAddr.transport === "tcp") {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // A TLS connection whose handshake failed; the engine will see the error.
      }
    }
    return conn;
  }
}
