/**
 * A `Deno.Listener` over another one that can hold back accepting and prepare each connection
 * before the engine gets it: a worker above its fair share of a shared accept queue waits before
 * accepting, the relay listener checks the relay's token, the client-certificate TLS listener
 * wraps the connection in a lazily handshaking TLS connection. Connections are taken from the
 * kernel only when the engine asks for one, so a worker that stops accepting leaves the rest of a
 * shared accept queue to the other workers.
 *
 * @module
 */

import { ListenerBase } from "./listener_base.ts";
/**
 * A listener whose connections are `prepare(raw)` (`undefined` drops that connection), taken only
 * while `admit()` allows.
 */
export class WrappedListener<C extends Deno.Conn = Deno.Conn> extends ListenerBase<C> {
  readonly #prepare: (conn: Deno.Conn) => C | undefined | Promise<C | undefined>;
  readonly #admit: (() => boolean) | undefined;
  #closed = false;

  /** Wraps `inner`; closing this closes it. */
  constructor(
    inner: Deno.Listener,
    prepare: (conn: Deno.Conn) => C | undefined | Promise<C | undefined>,
    admit?: () => boolean,
  ) {
    super(inner);
    this.#prepare = prepare;
    this.#admit = admit;
  }

  /**
   * The next prepared connection; rejects as the underlying `accept()` does (closed, …). Once
   * closed it still asks the listener underneath, which may hand out connections it took before
   * closing (a relay listener's, still being checked) and rejects after them: rejecting here
   * first would leave those unanswered.
   */
  async accept(): Promise<C> {
    for (;;) {
      let pause = 1;
      while (!this.#closed && this.#admit !== undefined && !this.#admit()) {
        // Others take the queue meanwhile; look again soon, a little later each time.
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 20);
      }
      const conn = await this.inner.accept();
      const prepared = await this.#prepare(conn);
      if (prepared !== undefined) return prepared;
    }
  }

  /** Stops accepting. */
  close(): void {
    this.#closed = true;
    this.inner.close();
  }
}

/** Closes a connection or listener, ignoring "already closed". */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

/** Writes all of `bytes` (a `write` may take only part of a buffer). */
export async function writeAll(
  conn: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}
