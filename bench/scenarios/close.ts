import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/** Accepting and tearing down a connection per request: the cost clients without pools pay. */
export default {
  name: "close",
  title: "Plaintext hello, a new connection per request (Connection: close)",
  quick: false,
  async run(options) {
    const load = { connections: 50, headers: ["Connection: close"] };
    const outcomes = await measure(singleCore(options.starlight, "hello"), load, options);
    return throughputReport(outcomes, "Deno.serve");
  },
} satisfies Scenario;
