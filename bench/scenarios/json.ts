import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/** A large body per response: write path, partial writes and JSON serialization. */
export default {
  name: "json",
  title: "64 KiB JSON response, keep-alive, 50 connections",
  quick: false,
  async run(options) {
    const outcomes = await measure(
      singleCore(options.starlight, "json"),
      { connections: 50 },
      options,
    );
    return throughputReport(outcomes, "Deno.serve");
  },
} satisfies Scenario;
