import { ISOLATIONS, only, starlight, type Variant } from "../lib/contenders.ts";
import { hupsUnderLoad, lost } from "../lib/hup.ts";
import { log } from "../lib/log.ts";
import { BOTH_CORES, SERVER_CORE } from "../lib/pinning.ts";
import { rssKiB } from "../lib/procfs.ts";
import { cpuPerRequest, notes } from "../lib/report.ts";
import { measure } from "../lib/rounds.ts";
import type { Options, Scenario } from "../lib/scenario.ts";
import { type Contender, launch } from "../lib/servers.ts";
import { count, median, mib, table } from "../lib/table.ts";

const HUPS = 5;
// Lets lazy start-up work (worker isolates, first GC) finish before a reading.
const SETTLE_MS = 1000;

/**
 * Thread workers against process workers (issue 15, item 5): what a worker costs in memory, how
 * soon a server answers, what a request costs, and what rolling restarts lose. A row whose
 * `--isolation` this Starlight rejects reads n/a with the CLI's message.
 */
export default {
  name: "isolation",
  title: `Worker isolation: thread vs process (memory, start, CPU per request, ${HUPS} HUPs)`,
  quick: false,
  async run(options) {
    const rows = new Map<Variant, string[]>();
    const failures: string[] = [];
    const available: Variant[] = [];
    for (const variant of ISOLATIONS) {
      const contender = starlight(options.starlight, "hello", { workers: 1, variant });
      if (!only(options, [contender]).length) continue;
      const why = await contender.unavailable?.();
      if (why) {
        log(`  ${variant.label}: n/a (${why})`);
        failures.push(`- ${variant.label}: n/a — ${why}`);
        rows.set(variant, [variant.label, ...Array(6).fill("n/a")]);
      } else {
        available.push(variant);
      }
    }
    const throughput = await measure(
      available.map((variant) =>
        starlight(options.starlight, "hello", { workers: 1, variant, label: variant.label })
      ),
      { connections: 50 },
      options,
    );
    for (const [i, variant] of available.entries()) {
      const samples = throughput[i].samples;
      const one = starlight(options.starlight, "hello", { workers: 1, variant });
      const two = starlight(options.starlight, "hello", { workers: 2, variant });
      try {
        const idleOne = await idle(one, options);
        const idleTwo = await idle(two, options);
        const server = await launch(two, BOTH_CORES);
        let lostRequests: number;
        try {
          const seconds = Math.max(12, 2 * options.duration);
          lostRequests = lost(await hupsUnderLoad(server, HUPS, seconds, BOTH_CORES));
        } finally {
          await server.stop();
        }
        rows.set(variant, [
          variant.label,
          mib(idleTwo.rss - idleOne.rss),
          mib(idleTwo.rss),
          `${Math.round(idleTwo.readyMs)} ms`,
          samples.length ? `${median(samples.map(cpuPerRequest)).toFixed(2)} µs` : "n/a",
          samples.length ? count(median(samples.map((s) => s.wrk.rps))) : "n/a",
          String(lostRequests),
        ]);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        log(`  ${variant.label}: n/a (${reason})`);
        failures.push(`- ${variant.label}: n/a — ${reason}`);
        rows.set(variant, [variant.label, ...Array(6).fill("n/a")]);
      }
    }
    const head = [
      "Isolation",
      "RSS per worker",
      "idle RSS, 2 workers",
      "first response, 2 workers",
      "CPU / req, 1 worker",
      "req/s, 1 worker",
      `lost over ${HUPS} HUPs`,
    ];
    const body = [
      table(head, ISOLATIONS.flatMap((variant) => rows.has(variant) ? [rows.get(variant)!] : [])),
      "RSS per worker: idle VmRSS of the whole server (supervisor and every worker process) with " +
      "2 workers minus that with 1. First response: from spawning the CLI to the first 2xx " +
      `answer to \`GET /\` (median of ${options.rounds}). CPU / req and req/s: \`--workers 1\` ` +
      "pinned to one core, wrk on the other, as in the single-core scenarios. Lost: socket " +
      `errors plus non-2xx over ${HUPS} SIGHUPs under load, \`--workers 2\`, both cores shared.`,
      notes(throughput),
      failures.join("\n"),
    ].filter(Boolean).join("\n\n");
    return { body, summary: [] };
  },
} satisfies Scenario;

/** Median idle RSS and time to first response over `options.rounds` fresh starts. */
async function idle(
  contender: Contender,
  options: Options,
): Promise<{ rss: number; readyMs: number }> {
  const rss: number[] = [];
  const ready: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const server = await launch(contender, SERVER_CORE, { ready: "response" });
    try {
      ready.push(server.readyMs);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      rss.push(rssKiB(server.pid));
    } finally {
      await server.stop();
    }
  }
  return { rss: median(rss), readyMs: median(ready) };
}
