import { log } from "../lib/rounds.ts";
import { BOTH_CORES } from "../lib/pinning.ts";
import type { Scenario } from "../lib/scenario.ts";
import { launch, type Server, starlight } from "../lib/servers.ts";
import { count, table } from "../lib/table.ts";
import { runWrk } from "../lib/wrk.ts";

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
    const head = ["Server", "req/s", "socket errors (c/r/w/t)", "non-2xx", "result"];
    const contender = starlight(options.starlight, "hello", 2);
    let server: Server;
    try {
      server = await launch(contender, BOTH_CORES);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      log(`  ${contender.label}: n/a (${reason})`);
      return table(head, [[contender.label, "n/a", "n/a", "n/a", "n/a"]]) +
        `\n\n- ${contender.label}: n/a — ${reason}`;
    }

    // Long enough that each restart has settled before the next and before wrk stops.
    const seconds = Math.max(6, 2 * options.duration);
    const timers = Array.from({ length: RESTARTS }, (_, i) =>
      setTimeout(() => {
        log(`  SIGHUP ${i + 1}/${RESTARTS}`);
        try {
          Deno.kill(server.pid, "SIGHUP");
        } catch {
          // It died: wrk's connect errors will say so.
        }
      }, (seconds * 1000 * (i + 1)) / (RESTARTS + 1)));
    try {
      const r = await runWrk(server.port, { connections: 50 }, seconds, BOTH_CORES);
      const e = r.socketErrors;
      const clean = r.requests > 0 && r.non2xx + e.connect + e.read + e.write + e.timeout === 0;
      return table(head, [[
        contender.label,
        count(r.rps),
        `${e.connect}/${e.read}/${e.write}/${e.timeout}`,
        String(r.non2xx),
        clean ? "pass" : "FAIL",
      ]]) + `\n\n${seconds} s of load, SIGHUP every ${seconds / (RESTARTS + 1)} s; ` +
        "server and wrk share both cores. Pass means zero socket errors and zero non-2xx.";
    } finally {
      timers.forEach(clearTimeout);
      await server.stop();
    }
  },
} satisfies Scenario;
