import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/** The engine's floor: parsing, routing to the handler and writing a tiny response. */
export default {
  name: "plaintext",
  title: "Plaintext hello, keep-alive, 50 connections",
  quick: true,
  async run(options) {
    const outcomes = await measure(
      singleCore(options.starlight, "hello"),
      { connections: 50 },
      options,
    );
    return throughputReport(outcomes, "Deno.serve");
  },
} satisfies Scenario;
