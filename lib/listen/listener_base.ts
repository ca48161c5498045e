/**
 * What every listener that wraps another one shares: iteration until closed, disposal that
 * ignores "already closed", and `ref`/`unref` passed to the socket underneath. A subclass says
 * only how it accepts and how it closes.
 *
 * @module
 */

/**
 * A `Deno.Listener` over `inner`; subclasses implement `accept` and `close`.
 *
 * @example
 * ```ts
 * import { ListenerBase } from "./listener_base.ts";
 * class Plain extends ListenerBase<Deno.Conn> {
 *   accept(): Promise<Deno.Conn> {
 *     return this.inner.accept();
 *   }
 *   close(): void {
 *     this.inner.close();
 *   }
 * }
 * using listener = new Plain(Deno.listen({ port: 0 }));
 * ```
 */
export abstract class ListenerBase<C extends Deno.Conn> implements Deno.Listener<C> {
  /** The address of the underlying listener. */
  readonly addr: Deno.Addr;
  /** The listener underneath, closed with this one. */
  protected readonly inner: Deno.Listener;

  /** Wraps `inner`; closing this closes it. */
  constructor(inner: Deno.Listener) {
    this.inner = inner;
    this.addr = inner.addr;
  }

  /**
   * The next connection; rejects with `BadResource` once closed and every connection already
   * taken from the socket underneath has been handed out (the engine's accept loop takes them
   * until then, so a wrapper must not reject early: see `checking_listener.ts`).
   */
  abstract accept(): Promise<C>;

  /** Stops accepting. */
  abstract close(): void;

  /** Iterates over accepted connections until closed. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<C> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        throw error;
      }
    }
  }

  /** Closes, ignoring "already closed". */
  [Symbol.dispose](): void {
    try {
      this.close();
    } catch {
      // Already closed.
    }
  }

  /** Keeps the event loop alive while listening (the default). */
  ref(): void {
    this.inner.ref();
  }

  /** Lets the event loop end while listening. */
  unref(): void {
    this.inner.unref();
  }
}
