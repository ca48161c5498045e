import { denoServeCli, ENGINES, only, starlight } from "../lib/contenders.ts";
import { BOTH_CORES } from "../lib/pinning.ts";
import { throughputReport } from "../lib/report.ts";
import { measure } from "../lib/rounds.ts";
import type { Scenario } from "../lib/scenario.ts";

const WORKERS = 2;

/** Two workers each: does Starlight's multi-worker mode cost more than `deno serve --parallel`? */
export default {
  name: "multi",
  title: `Multi-worker: ${WORKERS} workers, plaintext hello, keep-alive, 50 connections`,
  quick: false,
  async run(options) {
    const baseline = denoServeCli("hello", WORKERS);
    const contenders = only(options, [
      ...ENGINES.map((variant) =>
        starlight(options.starlight, "hello", { workers: WORKERS, variant })
      ),
      baseline,
    ]);
    const outcomes = await measure(contenders, { connections: 50 }, options, {
      serverCores: BOTH_CORES,
      clientCores: BOTH_CORES,
    });
    const section = throughputReport(outcomes, {
      baseline: baseline.label,
      summary: `${WORKERS} workers vs \`deno serve --parallel\` (wrk on the same cores)`,
    });
    section.body += "\n\nServers and wrk share both cores here: with only 2, the numbers are " +
      "bound by the load generator and say more about relative overhead (CPU / req) than about " +
      "scaling. `bench/device/scale.sh` measures scaling on a machine with cores to spare.";
    return section;
  },
} satisfies Scenario;
