/**
 * A `warn` hook with rate limiting: the same message again within a second is held back and
 * counted, and the count goes out with its next report or, if none comes, once the second is
 * over (see `coalesce.ts`). Both engines' servers report through one.
 *
 * @module
 */

import { coalescedLine, Coalescer } from "./coalesce.ts";

/** A kind of warning is reported at most once per this many ms. */
const WARN_INTERVAL = 1000;

/**
 * Passes warnings on to `sink`, at most one per message per second.
 *
 * @example
 * ```ts
 * import { WarnGate } from "./warn_gate.ts";
 * const gate = new WarnGate((message) => console.warn(message));
 * gate.warn("accept failed"); // reported
 * gate.warn("accept failed"); // held back, counted in a later line
 * ```
 */
export class WarnGate {
  readonly #sink: (message: string, error?: unknown) => void;
  readonly #warnings = new Coalescer(WARN_INTERVAL);
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Reports through `sink`. */
  constructor(sink: (message: string, error?: unknown) => void) {
    this.#sink = sink;
  }

  /** Reports a problem, unless the same message was reported within the last second. */
  warn(message: string, error?: unknown): void {
    const admission = this.#warnings.admit(message, Date.now());
    if (!admission.report) {
      this.#reportHeldLater();
      return;
    }
    this.#sink(coalescedLine(message, admission.held, WARN_INTERVAL), error);
  }

  /** Reports the counts of held-back warnings once their interval is over. */
  #reportHeldLater(): void {
    if (this.#timer !== undefined) return;
    const at = this.#warnings.nextDue();
    if (at === undefined) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      for (const [message, held] of this.#warnings.due(Date.now())) {
        this.#sink(coalescedLine(message, held, WARN_INTERVAL));
      }
      this.#reportHeldLater();
    }, Math.max(0, at - Date.now()));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
