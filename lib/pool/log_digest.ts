/**
 * Summarising a loop of alike log lines (worker crashes): the first few in a window are logged,
 * the rest only counted, and one line at the window's end says how many were held back.
 * Pure: the caller passes the time.
 *
 * @module
 */

/** What a window held back. */
export interface DigestSummary {
  /** Lines not logged. */
  held: number;
  /** The last of them. */
  last: string;
  /** The window's length (ms). */
  window: number;
}

/**
 * At most `limit` lines per `window` ms; the rest summarised.
 *
 * @example
 * ```ts
 * import { LogDigest } from "./log_digest.ts";
 * const digest = new LogDigest(2, 10_000);
 * digest.admit("a", 0); // true
 * digest.admit("b", 1); // true
 * digest.admit("c", 2); // false: held
 * digest.summary(10_000); // { held: 1, last: "c", window: 10000 }
 * ```
 */
export class LogDigest {
  readonly #limit: number;
  readonly #window: number;
  #start = -Infinity;
  #logged = 0;
  #held = 0;
  #last = "";

  /** Logs up to `limit` lines in each `window` ms. */
  constructor(limit: number, window: number) {
    this.#limit = limit;
    this.#window = window;
  }

  /** Whether to log `line` now; a line not logged is counted for the summary. */
  admit(line: string, now: number): boolean {
    if (now >= this.#start + this.#window && this.#held === 0) {
      this.#start = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#limit) {
      this.#logged++;
      return true;
    }
    this.#held++;
    this.#last = line;
    return false;
  }

  /** When {@link summary} has something to say (Infinity if nothing is held). */
  get due(): number {
    return this.#held === 0 ? Infinity : this.#start + this.#window;
  }

  /**
   * The summary of a window that has ended with lines held back, if any; the next window starts
   * now, so a loop that goes on is summarised again a window later.
   */
  summary(now: number): DigestSummary | undefined {
    if (this.#held === 0 || now < this.#start + this.#window) return undefined;
    const summary = { held: this.#held, last: this.#last, window: this.#window };
    this.#start = now;
    this.#logged = this.#limit;
    this.#held = 0;
    return summary;
  }
}
