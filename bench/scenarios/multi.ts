import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import { BOTH_CORES } from "../lib/pinning.ts";
import type { Scenario } from "../lib/scenario.ts";
import { denoServeCli, starlight } from "../lib/servers.ts";

/** Two workers each: does Starlight's multi-worker mode scale like `deno serve --parallel`? */
export default {
  name: "multi",
  title: "Multi-worker: 2 workers, plaintext hello, keep-alive, 50 connections",
  quick: false,
  async run(options) {
    const contenders = [starlight(options.starlight, "hello", 2), denoServeCli("hello", 2)];
    const outcomes = await measure(contenders, { connections: 50 }, options, {
      serverCores: BOTH_CORES,
      clientCores: BOTH_CORES,
    });
    return throughputReport(outcomes, "deno serve --parallel") +
      "\n\nServers and wrk share both cores here: with only 2, the numbers are bound by the load " +
      "generator and say more about relative overhead than about scaling.";
  },
} satisfies Scenario;
