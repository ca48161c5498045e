import { measure, type Outcome } from "../lib/rounds.ts";
import { notes } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";
import { count, median, ratio, table } from "../lib/table.ts";

/**
 * The server's own CPU time per request, from /proc. Unlike req/s it does not move when wrk gets
 * a slower slice of its core, so small engine changes show up here first.
 */
export default {
  name: "cpu",
  title: "CPU time per request, plaintext hello, keep-alive, 50 connections",
  quick: true,
  async run(options) {
    const outcomes = await measure(
      singleCore(options.starlight, "hello"),
      { connections: 50 },
      options,
    );
    const perRequest = (o: Outcome) =>
      median(o.samples.map((s) => s.cpuSeconds / s.wrk.requests * 1e6));
    const base = outcomes.find((o) => o.label === "Deno.serve" && o.samples.length);
    const rows = outcomes.map((o) =>
      o.samples.length
        ? [
          o.label,
          `${perRequest(o).toFixed(2)} µs`,
          `${Math.round(median(o.samples.map((s) => s.cpuSeconds / s.seconds)) * 100)} %`,
          count(median(o.samples.map((s) => s.wrk.rps))),
          ratio(perRequest(o), base && perRequest(base)),
        ]
        : [o.label, "n/a", "n/a", "n/a", "n/a"]
    );
    const head = [
      "Server",
      "CPU / request",
      "CPU busy",
      "req/s",
      "vs Deno.serve (lower is better)",
    ];
    return [
      table(head, rows),
      "CPU is user + system time of the whole server process (all threads), from /proc/<pid>/stat.",
      notes(outcomes),
    ].filter(Boolean).join("\n\n");
  },
} satisfies Scenario;
