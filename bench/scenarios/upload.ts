import { measure } from "../lib/rounds.ts";
import { throughputReport } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { singleCore } from "../lib/servers.ts";

/** A large request body read in full and echoed: the read path and body buffering. */
export default {
  name: "upload",
  title: "1 MiB POST echoed back, keep-alive, 50 connections",
  quick: false,
  async run(options) {
    const load = { connections: 50, script: "upload.lua" };
    const outcomes = await measure(singleCore(options.starlight, "echo"), load, options);
    return throughputReport(outcomes, "Deno.serve");
  },
} satisfies Scenario;
