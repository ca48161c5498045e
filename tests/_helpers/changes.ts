/**
 * Waiting for a condition that changes when something happens (bytes arrive, a socket closes),
 * without polling: the owner calls `notify()` on each change, a test awaits `until(ready)`.
 *
 * @module
 */

/** Wakes the waiters of `until` at each `notify()`. */
export class Changes {
  readonly #waiters = new Set<() => void>();

  /** Something changed: every waiter looks again. */
  notify(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Waits until `ready()` holds; false if `ms` passed first. */
  async until(ready: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let wake!: () => void;
      const changed = new Promise<void>((resolve) => wake = resolve);
      this.#waiters.add(wake);
      const timer = setTimeout(wake, left);
      await changed;
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
    return true;
  }
}
