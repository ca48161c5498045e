/**
 * The req/s table most scenarios print.
 *
 * @module
 */

import type { Outcome } from "./rounds.ts";
import { count, latency, median, ratio, table } from "./table.ts";

// Share of the server's core taken by other processes above which a note warns of noise.
const DISTURBED = 0.05;

/** Medians over rounds, each metric on its own; a contender without samples shows n/a. */
export function throughputReport(outcomes: Outcome[], baseline: string): string {
  const rps = (o: Outcome) => median(o.samples.map((s) => s.wrk.rps));
  const base = outcomes.find((o) => o.label === baseline && o.samples.length);
  const rows = outcomes.map((o) =>
    o.samples.length
      ? [
        o.label,
        count(rps(o)),
        latency(median(o.samples.map((s) => s.wrk.p50Ms))),
        latency(median(o.samples.map((s) => s.wrk.p99Ms))),
        ratio(rps(o), base && rps(base)),
      ]
      : [o.label, "n/a", "n/a", "n/a", "n/a"]
  );
  const head = ["Server", "req/s", "p50", "p99", `vs ${baseline}`];
  return [table(head, rows), notes(outcomes)].filter(Boolean).join("\n\n");
}

/**
 * One line per contender that failed or saw errors: a fast server answering errors, or one that
 * dropped connections, must not pass for a fast server.
 */
export function notes(outcomes: Outcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.failure) lines.push(`- ${o.label}: n/a — ${o.failure}`);
    const sum = (pick: (s: Outcome["samples"][number]) => number) =>
      o.samples.reduce((total, s) => total + pick(s), 0);
    const e = {
      connect: sum((s) => s.wrk.socketErrors.connect),
      read: sum((s) => s.wrk.socketErrors.read),
      write: sum((s) => s.wrk.socketErrors.write),
      timeout: sum((s) => s.wrk.socketErrors.timeout),
      non2xx: sum((s) => s.wrk.non2xx),
    };
    const seen = Object.entries(e).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`);
    if (seen.length) lines.push(`- ${o.label}: errors over all rounds — ${seen.join(", ")}`);
  }
  const disturbed = outcomes
    .map((o) => ({ o, share: median(o.samples.map((s) => (s.otherSeconds ?? NaN) / s.seconds)) }))
    .filter(({ share }) => share > DISTURBED);
  if (disturbed.length) {
    const shares = disturbed.map(({ o, share }) => `${o.label} ${Math.round(share * 100)} %`);
    lines.push(
      `- Other processes took the server's core during runs (median): ${shares.join(", ")}. ` +
        "The machine was not quiet; rerun before trusting differences of that size.",
    );
  }
  return lines.join("\n");
}
