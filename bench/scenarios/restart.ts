import { ENGINES, only, starlight } from "../lib/contenders.ts";
import { hupsUnderLoad, lost, socketErrors } from "../lib/hup.ts";
import { log } from "../lib/log.ts";
import { BOTH_CORES } from "../lib/pinning.ts";
import type { Scenario } from "../lib/scenario.ts";
import { launch } from "../lib/servers.ts";
import { count, table } from "../lib/table.ts";

const RESTARTS = 3;

/**
 * A rolling restart must be invisible to clients: SIGHUP three times under load, and wrk must
 * see no socket error and no failed response. Starlight only: the peers have no such restart.
 */
export default {
  name: "restart",
  title: `Restart under load: Starlight --workers 2, SIGHUP ×${RESTARTS}`,
  quick: true,
  async run(options) {
    // Long enough that each restart has settled before the next and before wrk stops.
    const seconds = Math.max(6, 2 * options.duration);
    const head = ["Server", "req/s", "socket errors (c/r/w/t)", "non-2xx", "lost", "result"];
    const rows: string[][] = [];
    const failures: string[] = [];
    const cells: Record<string, string> = {};
    const contenders = only(
      options,
      ENGINES.map((variant) => starlight(options.starlight, "hello", { workers: 2, variant })),
    );
    for (const contender of contenders) {
      try {
        const server = await launch(contender, BOTH_CORES);
        try {
          const r = await hupsUnderLoad(server, RESTARTS, seconds, BOTH_CORES);
          const clean = r.requests > 0 && lost(r) === 0;
          rows.push([
            contender.label,
            count(r.rps),
            socketErrors(r),
            String(r.non2xx),
            String(lost(r)),
            clean ? "pass" : "FAIL",
          ]);
          if (contender.column) cells[contender.column] = String(lost(r));
        } finally {
          await server.stop();
        }
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        log(`  ${contender.label}: n/a (${reason})`);
        rows.push([contender.label, ...Array(5).fill("n/a")]);
        failures.push(`- ${contender.label}: n/a — ${reason}`);
        if (contender.column) cells[contender.column] = "n/a";
      }
    }
    const body = [
      table(head, rows),
      `${seconds} s of load, SIGHUP every ${seconds / (RESTARTS + 1)} s; server and wrk share ` +
      "both cores. Pass means zero socket errors and zero non-2xx.",
      failures.join("\n"),
    ].filter(Boolean).join("\n\n");
    return {
      body,
      summary: [{ scenario: `requests lost over ${RESTARTS} HUPs under load (2 workers)`, cells }],
    };
  },
} satisfies Scenario;
