/**
 * The bookkeeping of graceful restarts (HUP): which workers are old, which one is being
 * replaced, how many were, and the promise `restart()` returned. The order of replacement is
 * the policy's (rule 4 in `policy.ts`); this only records it and says so in the log.
 *
 * @module
 */

import { log } from "../log.ts";
import type { RestartState } from "./policy.ts";

/**
 * A restart in progress, if any, and the one asked for while it runs.
 *
 * @example
 * ```ts ignore
 * const restarts = new RestartRun();
 * const done = restarts.ask();
 * restarts.begin(nextId, oldWorkers);
 * // … the policy's restart-next, restart-step and restart-finished actions …
 * await done;
 * ```
 */
export class RestartRun {
  #state: (RestartState & { total: number; replaced: number }) | undefined;
  #again = false;
  #done: PromiseWithResolvers<void> | undefined;

  /** The restart the policy sees (`undefined` when none runs). */
  get state(): RestartState | undefined {
    return this.#state;
  }

  /** A promise that settles when the restarts asked for so far have finished or stopped. */
  ask(): Promise<void> {
    this.#done ??= Promise.withResolvers<void>();
    return this.#done.promise;
  }

  /**
   * Begins a restart replacing the `total` workers with an id below `cutoff`; while one runs,
   * notes that another is wanted after it instead.
   */
  begin(cutoff: number, total: number): void {
    if (this.#state !== undefined) {
      this.#again = true;
      return;
    }
    this.#state = { cutoff, current: undefined, total, replaced: 0 };
    log.info("restart begun: {count} worker(s) to replace, one at a time", { count: total });
  }

  /** The policy chose the next worker to replace. */
  next(id: number): void {
    if (this.#state !== undefined) this.#state = { ...this.#state, current: id };
  }

  /** The worker being replaced stopped accepting. */
  step(): void {
    const state = this.#state;
    if (state === undefined) return;
    this.#state = { ...state, current: undefined, replaced: state.replaced + 1 };
  }

  /** No old worker is left. Returns true when another restart was asked for meanwhile. */
  finish(): boolean {
    log.info("restart finished: {count} worker(s) replaced", { count: this.#state?.replaced });
    this.#state = undefined;
    if (this.#again) {
      this.#again = false;
      return true;
    }
    this.settle();
    return false;
  }

  /** Stops the restart, the old workers staying (the caller keeps them). */
  stop(reason: string): void {
    const state = this.#state;
    if (state === undefined) return;
    log.error(
      "restart stopped after {replaced} of {count} worker(s): {reason}; the old workers keep serving",
      { replaced: state.replaced, count: state.total, reason },
    );
    this.#state = undefined;
    this.#again = false;
    this.settle();
  }

  /** Resolves what {@link ask} returned, and forgets any restart (shutdown). */
  settle(): void {
    this.#state = undefined;
    this.#again = false;
    this.#done?.resolve();
    this.#done = undefined;
  }
}
