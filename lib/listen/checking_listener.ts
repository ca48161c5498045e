/**
 * A listener whose connections each pass a check before the engine gets them (the relay's
 * preamble, a PROXY protocol header). Checks run concurrently: a client that sends its first
 * bytes slowly, or never, holds only its own connection (each check bounds its own time), and
 * the next connection that passes is handed out meanwhile. Past `maxPending` checks at once,
 * accepting waits for some to end.
 *
 * Closing stops taking connections from the kernel, but the ones already taken are still
 * checked and handed out; `accept` rejects (`BadResource`) only after them. In a shared accept
 * queue no other worker will ever see a connection this one took, so a consumer that stops at
 * the first rejection after closing loses nothing, and one that stopped earlier would.
 *
 * @module
 */

import { ListenerBase } from "./listener_base.ts";
import { closeQuietly } from "./wrapped_listener.ts";

interface Waiter<C> {
  resolve(conn: C): void;
  reject(error: unknown): void;
}

/**
 * A listener over `inner` that hands out the connections `check` passes.
 *
 * @example
 * ```ts
 * import { CheckingListener } from "./checking_listener.ts";
 * class Greeted extends CheckingListener<Deno.Conn> {
 *   protected async check(conn: Deno.Conn): Promise<Deno.Conn | undefined> {
 *     const byte = new Uint8Array(1);
 *     return (await conn.read(byte)) === 1 && byte[0] === 0x2a ? conn : undefined;
 *   }
 * }
 * using listener = new Greeted(Deno.listen({ hostname: "127.0.0.1", port: 0 }), 1024);
 * ```
 */
export abstract class CheckingListener<C extends Deno.Conn> extends ListenerBase<C> {
  readonly #maxPending: number;
  /** Connections that passed and that no `accept()` has taken yet. */
  readonly #ready: C[] = [];
  readonly #waiters: Waiter<C>[] = [];
  /** Connections being checked. */
  readonly #pending = new Set<Deno.Conn>();
  #accepting = false;
  #closed = false;

  /** Checks connections from `inner`, at most `maxPending` at once. */
  constructor(inner: Deno.Listener, maxPending: number) {
    super(inner);
    this.#maxPending = maxPending;
  }

  /**
   * The connection if it passes, else `undefined` (the connection is then closed here). Bounds
   * its own time; a rejection counts as a failed check.
   */
  protected abstract check(conn: Deno.Conn): Promise<C | undefined>;

  /** The next connection that passed; rejects as `inner` rejects, and once closed and empty. */
  accept(): Promise<C> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    const { promise, resolve, reject } = Promise.withResolvers<C>();
    this.#waiters.push({ resolve, reject });
    this.#pump();
    this.#endIfDone();
    return promise;
  }

  /** Stops accepting; connections being checked are still handed out once they pass. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.inner.close();
    this.#endIfDone();
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
        // Even when closed meanwhile: its client has sent its request.
        this.#check(conn);
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

  async #check(conn: Deno.Conn): Promise<void> {
    this.#pending.add(conn);
    let passed: C | undefined;
    try {
      passed = await this.check(conn);
    } catch {
      passed = undefined;
    } finally {
      this.#pending.delete(conn);
    }
    if (passed === undefined) {
      closeQuietly(conn);
    } else {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.resolve(passed);
      else this.#ready.push(passed);
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
}
