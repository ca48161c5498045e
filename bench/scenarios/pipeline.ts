import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/**
 * Requests arrive 16 at a time on each connection, so per-read and per-write overheads are
 * amortized and the request/response path itself dominates. Also checks pipelining works at all.
 */
export default {
  name: "pipeline",
  title: "Plaintext hello, pipelining depth 16, 50 connections",
  quick: false,
  async run(options) {
    const load = { connections: 50, script: "pipeline.lua", scriptArgs: ["16"] };
    const outcomes = await measure(singleCore(options.starlight, "hello"), load, options);
    return throughputReport(outcomes, "Deno.serve") +
      "\n\nLatency runs from a batch's write to each response. wrk's histogram sometimes " +
      "reads 0 under pipelining; such readings are dropped, and n/a means no round had one.";
  },
} satisfies Scenario;
