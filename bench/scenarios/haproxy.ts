import { ENGINES, exists, only, starlight, type Variant } from "../lib/contenders.ts";
import { lost, socketErrors } from "../lib/hup.ts";
import { log } from "../lib/log.ts";
import { BOTH_CORES } from "../lib/pinning.ts";
import { rejectedFlags } from "../lib/probe.ts";
import type { Options, Scenario } from "../lib/scenario.ts";
import { type Contender, freePort, launch, type Server } from "../lib/servers.ts";
import { count, table } from "../lib/table.ts";
import { runWrk } from "../lib/wrk.ts";

const HEALTH = ["--health-path", "/healthz"];
const SHUTDOWN_DELAY = ["--shutdown-delay", "1"];
/** How long an instance may take to drain and exit after TERM before it is killed. */
const DRAIN_MS = 15_000;
/** After an instance is back, time for HAProxy's checks to see it up before the next restart. */
const REJOIN_MS = 1500;

/**
 * A rolling deploy behind a load balancer (issue 14): HAProxy in front of two Starlight
 * instances, steady GET and POST load through it, and each instance in turn stopped with TERM
 * and started again. Every request must succeed: target 0 lost.
 */
export default {
  name: "haproxy",
  title: "Rolling deploy behind HAProxy: restart each of two instances in turn, under load",
  quick: false,
  async run(options) {
    const haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].find(exists);
    const head = ["Server", "requests", "req/s", "socket errors (c/r/w/t)", "non-2xx", "lost"];
    if (!haproxy) {
      log("  haproxy: skipped, not installed");
      return { body: "n/a — haproxy is not installed (apt-get install haproxy)", summary: [] };
    }
    const rows: string[][] = [];
    const lines: string[] = [];
    const cells: Record<string, string> = {};
    const variants = ENGINES.filter((variant) =>
      only(options, [starlight(options.starlight, "hono_api", { workers: 1, variant })]).length
    );
    for (const variant of variants) {
      try {
        const run = await deploy(haproxy, variant, options);
        rows.push([
          variant.label,
          count(run.requests),
          count(run.rps),
          run.errors,
          String(run.non2xx),
          `${run.lost}${run.lost ? " FAIL" : ""}`,
        ]);
        lines.push(`- ${variant.label}: ${run.how}`);
        if (variant.column) cells[variant.column] = String(run.lost);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        log(`  ${variant.label}: n/a (${reason})`);
        rows.push([variant.label, ...Array(5).fill("n/a")]);
        lines.push(`- ${variant.label}: n/a — ${reason}`);
        if (variant.column) cells[variant.column] = "n/a";
      }
    }
    const body = [
      table(head, rows),
      "Two instances (`--workers 1`, the Hono app) behind Debian's HAProxy (round robin, " +
      "`retries 3`, `option redispatch`, an HTTP health check every 100 ms); wrk sends " +
      "`GET /users/42` and `POST /users` alternately through it. Each instance in turn gets " +
      "TERM, is waited for, and is started again on its port. Lost: socket errors plus non-2xx " +
      "responses (502/503 from HAProxy included); the target is 0.",
      lines.join("\n"),
    ].join("\n\n");
    return {
      body,
      summary: [{
        scenario: "requests lost restarting one of two instances behind HAProxy",
        cells,
      }],
    };
  },
} satisfies Scenario;

interface Deploy {
  requests: number;
  rps: number;
  errors: string;
  non2xx: number;
  lost: number;
  /** The health check used, and what happened when. */
  how: string;
}

async function deploy(haproxy: string, variant: Variant, options: Options): Promise<Deploy> {
  // Today's Starlight may lack the health path and the shutdown delay (issue 14, item 4): then
  // HAProxy checks `GET /` and TERM stops the instance at once, which is the baseline to beat.
  const health = !(await rejectedFlags(options.starlight, [...variant.flags, ...HEALTH]));
  const delay = health &&
    !(await rejectedFlags(options.starlight, [...variant.flags, ...HEALTH, ...SHUTDOWN_DELAY]));
  const flags = [...health ? HEALTH : [], ...delay ? SHUTDOWN_DELAY : []];
  const instance = (name: string) =>
    starlight(options.starlight, "hono_api", {
      workers: 1,
      variant,
      flags,
      label: `${variant.label} ${name}`,
    });
  const ports = [freePort(), freePort()];
  const contenders = [instance("A"), instance("B")];
  const servers: (Server | undefined)[] = [];
  const dir = await Deno.makeTempDir({ prefix: "starlight-bench-haproxy-" });
  let balancer: Server | undefined;
  try {
    for (const [i, contender] of contenders.entries()) {
      servers[i] = await launch(contender, BOTH_CORES, { port: ports[i] });
    }
    balancer = await launch(
      balancerContender(haproxy, `${dir}/haproxy.cfg`, ports, health ? "/healthz" : "/"),
      BOTH_CORES,
    );
    // Both servers seen up (rise 2 at 100 ms) before the load starts.
    await new Promise((r) => setTimeout(r, 600));

    const seconds = Math.max(16, 2 * options.duration);
    const started = performance.now();
    const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const timeline: string[] = [];
    const load = runWrk(
      balancer.port,
      { connections: 50, script: "hono.lua" },
      seconds,
      BOTH_CORES,
    );
    const restarts = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      for (const [i, contender] of contenders.entries()) {
        timeline.push(`TERM ${"AB"[i]} at ${at()}`);
        await servers[i]?.stop(DRAIN_MS);
        timeline.push(`exited ${at()}`);
        servers[i] = await launch(contender, BOTH_CORES, { port: ports[i] });
        timeline.push(`up ${at()}`);
        await new Promise((r) => setTimeout(r, REJOIN_MS));
      }
    })();
    const r = await load;
    await restarts;
    const within = performance.now() - started <= seconds * 1000 + 1000;
    return {
      requests: r.requests,
      rps: r.rps,
      errors: socketErrors(r),
      non2xx: r.non2xx,
      lost: lost(r),
      how: `health check ${
        health
          ? "`GET /healthz` (`--health-path`)"
          : "`GET /` (this Starlight has no `--health-path`)"
      }` +
        `, ${delay ? "`--shutdown-delay 1`" : "no shutdown delay"}; ${timeline.join(", ")}` +
        (within ? "" : "; the restarts outlasted the load, so the last one was not measured"),
    };
  } finally {
    await balancer?.stop();
    await Promise.all(servers.map((s) => s?.stop()));
    await Deno.remove(dir, { recursive: true });
  }
}

/** HAProxy on the port it is given, balancing over `ports` with an HTTP health check. */
function balancerContender(
  haproxy: string,
  file: string,
  ports: number[],
  healthPath: string,
): Contender {
  return {
    label: "haproxy",
    argv(port) {
      Deno.writeTextFileSync(file, config(port, ports, healthPath));
      return [haproxy, "-db", "-f", file];
    },
  };
}

function config(port: number, ports: number[], healthPath: string): string {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch

frontend web
  bind 127.0.0.1:${port}
  default_backend starlight

backend starlight
  balance roundrobin
  option httpchk
  http-check send meth GET uri ${healthPath}
  http-check expect status 200
  default-server check inter 100ms fastinter 100ms downinter 100ms rise 2 fall 1
${ports.map((p, i) => `  server ${"ab"[i]} 127.0.0.1:${p}`).join("\n")}
`;
}
