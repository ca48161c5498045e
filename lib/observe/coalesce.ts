/**
 * Rate-limited reporting: the first event of a kind is reported, the same kind again within the
 * interval is only counted, and the count goes out with the next report of that kind or, if
 * none comes, once its interval is over. So a client that can make the server fail (a flood of
 * connections past the file limit, a request that makes the app throw) makes one log line a
 * second, not one per try. Pure: the caller passes the time and decides what to write.
 *
 * @module
 */

/** What {@link Coalescer.admit} says about an event. */
export interface Admission {
  /** Report it now. */
  readonly report: boolean;
  /** When reporting: events of its kind held back since its last report. */
  readonly held: number;
}

const HOLD: Admission = { report: false, held: 0 };
const FIRST: Admission = { report: true, held: 0 };

interface Kind {
  /** When the kind was last reported. */
  reportedAt: number;
  /** Held back since. */
  held: number;
}

/**
 * Decides which events to report, at most one per kind per interval.
 *
 * @example
 * ```ts
 * import { Coalescer } from "./coalesce.ts";
 * const coalescer = new Coalescer(1000);
 * coalescer.admit("accept failed", 0); // { report: true, held: 0 }
 * coalescer.admit("accept failed", 10); // { report: false, held: 0 }
 * coalescer.due(1000); // [["accept failed", 1]]
 * ```
 */
export class Coalescer {
  readonly #interval: number;
  readonly #kinds = new Map<string, Kind>();

  /** At most one report per kind every `interval` ms. */
  constructor(interval = 1000) {
    this.#interval = interval;
  }

  /** An event of `kind` at `now` (ms): whether to report it, and how many were held back. */
  admit(kind: string, now: number): Admission {
    const seen = this.#kinds.get(kind);
    if (seen === undefined) {
      this.#kinds.set(kind, { reportedAt: now, held: 0 });
      return FIRST;
    }
    if (now - seen.reportedAt < this.#interval) {
      seen.held++;
      return HOLD;
    }
    const held = seen.held;
    seen.reportedAt = now;
    seen.held = 0;
    return held === 0 ? FIRST : { report: true, held };
  }

  /**
   * The kinds whose interval is over with events still held back, and how many: report them
   * now. Kinds quiet for a whole interval are forgotten, so the next one is reported at once.
   */
  due(now: number): [string, number][] {
    const out: [string, number][] = [];
    for (const [kind, seen] of this.#kinds) {
      if (now - seen.reportedAt < this.#interval) continue;
      if (seen.held > 0) {
        out.push([kind, seen.held]);
        seen.reportedAt = now;
        seen.held = 0;
      } else {
        this.#kinds.delete(kind);
      }
    }
    return out;
  }

  /** When {@link due} should next be asked (ms), or undefined when nothing is held back. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const seen of this.#kinds.values()) {
      if (seen.held === 0) continue;
      const at = seen.reportedAt + this.#interval;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}

/**
 * A report line for `message` that stands for `held` more like it held back over `interval`
 * ms.
 *
 * @example
 * ```ts
 * import { coalescedLine } from "./coalesce.ts";
 * coalescedLine("accept failed", 523, 1000); // "accept failed (523 more like it in 1 s)"
 * ```
 */
export function coalescedLine(message: string, held: number, interval: number): string {
  if (held === 0) return message;
  return `${message} (${held} more like it in ${interval / 1000} s)`;
}
