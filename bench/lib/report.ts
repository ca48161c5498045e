/**
 * The table most scenarios print: CPU per request first, then throughput and latency, and
 * whether the load generator was the limit.
 *
 * @module
 */

import type { Outcome, Sample } from "./rounds.ts";
import type { Section, SummaryRow } from "./scenario.ts";
import { count, latency, median, percent, ratio, table } from "./table.ts";

// Share of the server's core taken by other processes above which a note warns of noise.
const DISTURBED = 0.05;
/** wrk's share of its cores above which its req/s is its own ceiling, not the server's. */
export const CLIENT_BOUND = 0.9;

/** Server CPU (user + system) per request, in µs. */
export function cpuPerRequest(s: Sample): number {
  return (s.user + s.system) / s.wrk.requests * 1e6;
}

const perRequest = (o: Outcome, pick: (s: Sample) => number = cpuPerRequest) =>
  median(o.samples.map(pick));
const rps = (o: Outcome) => median(o.samples.map((s) => s.wrk.rps));
const clientBusy = (o: Outcome) => median(o.samples.map((s) => s.wrk.clientBusy));

export interface ReportSetup {
  /** The label every ratio is taken against. */
  baseline: string;
  /** The scenario's name in the summary; no summary rows without it. */
  summary?: string;
}

/** Medians over rounds, each metric on its own; a contender without samples shows n/a. */
export function throughputReport(outcomes: Outcome[], setup: ReportSetup): Section {
  const base = outcomes.find((o) => o.label === setup.baseline && o.samples.length);
  const rows = outcomes.map((o) =>
    o.samples.length
      ? [
        o.label,
        `${perRequest(o).toFixed(2)} µs`,
        `${perRequest(o, (s) => s.user / s.wrk.requests * 1e6).toFixed(2)} µs`,
        ratio(perRequest(o), base && perRequest(base)),
        count(rps(o)),
        ratio(rps(o), base && rps(base)),
        latency(median(o.samples.map((s) => s.wrk.p50Ms))),
        latency(median(o.samples.map((s) => s.wrk.p99Ms))),
        percent(median(o.samples.map((s) => (s.user + s.system) / s.seconds))),
        percent(clientBusy(o)) + (clientBusy(o) >= CLIENT_BOUND ? " ⚠" : ""),
      ]
      : [o.label, ...Array(9).fill("n/a")]
  );
  const head = [
    "Server",
    "CPU / req",
    "user / req",
    "CPU vs base",
    "req/s",
    "req/s vs base",
    "p50",
    "p99",
    "server CPU",
    "wrk CPU",
  ];
  const body = [
    table(head, rows),
    `CPU / req: user + system time of every server process and thread (from /proc) over the ` +
    `requests wrk counted; lower is better. Base: ${setup.baseline}.`,
    notes(outcomes),
  ].filter(Boolean).join("\n\n");
  return { body, summary: setup.summary ? [summaryRow(setup.summary, outcomes, base)] : [] };
}

/**
 * The scenario's headline per contender for the closing summary: CPU per request, its ratio to
 * the baseline, and req/s (marked when wrk was the limit).
 */
export function summaryRow(scenario: string, outcomes: Outcome[], base?: Outcome): SummaryRow {
  const cells: Record<string, string> = {};
  for (const o of outcomes) {
    if (!o.column || cells[o.column]) continue;
    if (!o.samples.length) {
      cells[o.column] = "n/a";
      continue;
    }
    const cpu = perRequest(o);
    const vs = base && o !== base ? ` (${ratio(cpu, perRequest(base))})` : "";
    const bound = clientBusy(o) >= CLIENT_BOUND ? "⚠" : "";
    cells[o.column] = `${cpu.toFixed(1)} µs${vs}, ${kilo(rps(o))}${bound}`;
  }
  return { scenario, cells };
}

/** 54,321 as "54k", 1,234 as "1.2k", 950 as "950". */
export function kilo(n: number): string {
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(Math.round(n));
}

/**
 * One line per contender that failed or saw errors: a fast server answering errors, or one that
 * dropped connections, must not pass for a fast server. Then whether wrk was the limit, and
 * whether the machine was quiet.
 */
export function notes(outcomes: Outcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.failure) lines.push(`- ${o.label}: n/a — ${o.failure}`);
    const sum = (pick: (s: Sample) => number) => o.samples.reduce((total, s) => total + pick(s), 0);
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
  const bound = outcomes.filter((o) => o.samples.length && clientBusy(o) >= CLIENT_BOUND);
  if (bound.length) {
    lines.push(
      `- ⚠ wrk was the bottleneck for ${bound.map((o) => o.label).join(", ")}: its own CPU ` +
        `was at ${percent(CLIENT_BOUND)} or more of its cores, so their req/s is wrk's ceiling, ` +
        "not the server's. Compare CPU / req.",
    );
  }
  const disturbed = outcomes
    .map((o) => ({ o, share: median(o.samples.map((s) => (s.otherSeconds ?? NaN) / s.seconds)) }))
    .filter(({ share }) => share > DISTURBED);
  if (disturbed.length) {
    const shares = disturbed.map(({ o, share }) => `${o.label} ${percent(share)}`);
    lines.push(
      `- Other processes took the server's core during runs (median): ${shares.join(", ")}. ` +
        "The machine was not quiet; rerun before trusting differences of that size.",
    );
  }
  return lines.join("\n");
}
