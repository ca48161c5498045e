import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/** A ReadableStream body of 100 chunks: chunked encoding and the per-chunk write cost. */
export default {
  name: "stream",
  title: "Streamed response, 100 chunks of 1 KiB, keep-alive, 50 connections",
  quick: false,
  async run(options) {
    const outcomes = await measure(
      singleCore(options.starlight, "stream"),
      { connections: 50 },
      options,
    );
    return throughputReport(outcomes, "Deno.serve");
  },
} satisfies Scenario;
