/**
 * The bookkeeping both engines' servers share: their live connections (each knowing its index,
 * removed by swapping with the last, so a close is O(1) whatever the count), and their accept
 * loops with the listeners they run on.
 *
 * @module
 */

/**
 * Live connections, in no particular order.
 *
 * @example
 * ```ts ignore
 * const live = new ConnectionList<Connection>();
 * live.add(connection);
 * if (live.remove(connection)) console.log("the last one ended");
 * ```
 */
export class ConnectionList<C extends { index: number }> {
  /** The connections; a copy must be iterated where the loop may close some. */
  readonly items: C[] = [];

  /** How many are live. */
  get length(): number {
    return this.items.length;
  }

  /** Adds `connection`. */
  add(connection: C): void {
    connection.index = this.items.length;
    this.items.push(connection);
  }

  /** Forgets `connection`; true when that left none (false too when it was not here). */
  remove(connection: C): boolean {
    const items = this.items;
    const i = connection.index;
    if (i < 0 || items[i] !== connection) return false;
    const last = items.pop()!;
    if (last !== connection) {
      items[i] = last;
      last.index = i;
    }
    connection.index = -1;
    return items.length === 0;
  }
}

/**
 * The accept loops of a server and the listeners they take connections from.
 *
 * @example
 * ```ts ignore
 * const loops = new AcceptLoops();
 * loops.run(listener, () => acceptUntilClosed(listener));
 * loops.stopAccepting();
 * await loops.ended();
 * ```
 */
export class AcceptLoops {
  readonly #listeners = new Set<Deno.Listener>();
  readonly #loops = new Set<Promise<void>>();

  /** Runs `loop` over `listener` until it ends; the returned promise settles with it. */
  run(listener: Deno.Listener, loop: () => Promise<void>): Promise<void> {
    this.#listeners.add(listener);
    const running = loop().finally(() => {
      this.#listeners.delete(listener);
      this.#loops.delete(running);
    });
    this.#loops.add(running);
    return running;
  }

  /** Closes every listener: their loops end at their next accept. */
  stopAccepting(): void {
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    this.#listeners.clear();
  }

  /**
   * Resolves once every loop has ended. An accept that completed as its listener closed reaches
   * its loop a moment later: after this, every accepted connection is known.
   */
  async ended(): Promise<void> {
    await Promise.all(this.#loops);
  }
}
