/**
 * A coarse clock for deadlines and the `Date` header.
 *
 * `Date.now()` costs about 50 ns in Deno, and a request used to read it half a dozen times
 * (head deadline, write deadline, `Date`). Timeouts are enforced by a sweeper that runs every
 * {@link tick}-ing period anyway, so the loop reads this value instead, and the sweeper (and
 * each accept) brings it up to date. It may lag real time by one sweeper period; the sweeper
 * allows for that lag so that no timeout ever fires early.
 *
 * @module
 */

let current = Date.now();

/** The clock's time in ms since the epoch, as of the last {@link tick}. */
export function now(): number {
  return current;
}

/** Reads the real time into the clock and returns it. */
export function tick(): number {
  return current = Date.now();
}
