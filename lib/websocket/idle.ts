/**
 * The idle watch behind `idleTimeout`: after a silent period, ping; after another one with
 * still nothing received, give up on the peer.
 *
 * @module
 */

/**
 * One timer per connection, rescheduled lazily: `touch` only records the time, so receiving
 * data costs no timer churn.
 *
 * @example
 * ```ts
 * import { IdleWatch } from "./idle.ts";
 * const watch = new IdleWatch(120_000, () => console.log("ping"), () => console.log("dead"));
 * watch.start();
 * watch.touch(); // on every read
 * watch.stop();
 * ```
 */
export class IdleWatch {
  readonly #timeoutMs: number;
  readonly #onIdle: () => void;
  readonly #onDead: () => void;
  #last = 0;
  #pinged = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates a stopped watch.
   *
   * @param timeoutMs The silent period; 0 disables the watch.
   * @param onIdle Called after one silent period (send a ping).
   * @param onDead Called after a second one (close the connection).
   */
  constructor(timeoutMs: number, onIdle: () => void, onDead: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
    this.#onDead = onDead;
  }

  /** Starts watching. */
  start(): void {
    if (this.#timeoutMs <= 0) return;
    this.touch();
    this.#schedule(this.#timeoutMs);
  }

  /** Records that something was received. */
  touch(): void {
    this.#last = performance.now();
    this.#pinged = false;
  }

  /** Stops watching for good. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => this.#check(), delay);
  }

  #check(): void {
    const silent = performance.now() - this.#last;
    if (silent < this.#timeoutMs) return this.#schedule(this.#timeoutMs - silent);
    if (this.#pinged) {
      this.#timer = undefined;
      return this.#onDead();
    }
    this.#pinged = true;
    this.#last = performance.now();
    this.#schedule(this.#timeoutMs);
    this.#onIdle();
  }
}
