/**
 * The common scenario: one app, every contender on the server core, wrk on the other.
 *
 * @module
 */

import { singleCore } from "./contenders.ts";
import { throughputReport } from "./report.ts";
import { measure } from "./rounds.ts";
import type { Scenario } from "./scenario.ts";
import type { Load } from "./wrk.ts";

export interface SingleCoreSetup {
  name: string;
  title: string;
  quick: boolean;
  /** bench/apps/<app>.ts */
  app: string;
  load: Load;
  /** The row's name in the summary. */
  summary: string;
  /** A paragraph under the table. */
  note?: string;
}

/** A scenario measuring `setup.app` under `setup.load` on one core, against Deno.serve. */
export function singleCoreScenario(setup: SingleCoreSetup): Scenario {
  return {
    name: setup.name,
    title: setup.title,
    quick: setup.quick,
    async run(options) {
      const outcomes = await measure(singleCore(options, setup.app), setup.load, options);
      const section = throughputReport(outcomes, {
        baseline: "Deno.serve",
        summary: setup.summary,
      });
      if (setup.note) section.body += `\n\n${setup.note}`;
      return section;
    },
  };
}
