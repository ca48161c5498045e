/**
 * The benchmark suite: Starlight against Deno.serve, `deno serve`, node:http and Bun on the
 * same apps. Prints a Markdown report on stdout, closed by the summary table the README shows,
 * and progress on stderr. See bench/README.md.
 *
 * Usage: deno run -A bench/run.ts [--quick] [--scenario=a,b] [--rounds=N] [--duration=S]
 *                                 [--warmup=S] [--only=a,b] [--offline] [--starlight=PATH]
 */
import { parseArgs } from "node:util";
import { BUN_PACKAGE } from "./lib/bun.ts";
import { node as nodePath } from "./lib/contenders.ts";
import { log } from "./lib/log.ts";
import type { Options, SummaryRow } from "./lib/scenario.ts";
import { stopAll } from "./lib/servers.ts";
import { summaryTable } from "./lib/summary.ts";
import { wrkVersion } from "./lib/wrk.ts";
import { scenarios } from "./scenarios/mod.ts";

// Far beyond a full run (~15 min): only a wedged run ever reaches it.
const WATCHDOG_MS = 40 * 60_000;

const flags = parse(Deno.args);

if (flags.help) {
  console.log(`deno run -A bench/run.ts [flags]
  --quick             1 round of 2 s, only the scenarios marked quick (~3 min)
  --scenario=a,b      run these scenarios: ${scenarios.map((s) => s.name).join(", ")}
  --rounds=N          measured rounds per contender (default 3, quick 1)
  --duration=S        seconds per measured run (default 3, quick 2)
  --warmup=S          seconds of unmeasured load per server first (default 1)
  --only=a,b          only contenders whose label contains one of these, e.g. starlight,deno.serve
  --offline           never install Bun (${BUN_PACKAGE}) from npm; its rows then read n/a
  --starlight=PATH    Starlight's mod.ts (default: this checkout's), e.g. another worktree's`);
  Deno.exit(0);
}

const options: Options = {
  quick: flags.quick,
  rounds: positive(flags.rounds, flags.quick ? 1 : 3, "rounds"),
  duration: positive(flags.duration, flags.quick ? 2 : 3, "duration"),
  warmup: positive(flags.warmup, 1, "warmup"),
  starlight: flags.starlight ?? new URL("../mod.ts", import.meta.url).pathname,
  only: flags.only?.split(",").map((s) => s.trim()).filter(Boolean),
  installBun: !flags.offline,
};

const wanted = flags.scenario?.split(",").map((s) => s.trim());
const unknown = wanted?.filter((name) => !scenarios.some((s) => s.name === name));
if (unknown?.length) {
  console.error(`unknown scenario ${unknown.join(", ")}; known: ${scenarios.map((s) => s.name)}`);
  Deno.exit(2);
}
const selected = scenarios.filter((s) =>
  wanted ? wanted.includes(s.name) : !options.quick || s.quick
);

const wrk = await wrkVersion();
if (!wrk) {
  console.log("Benchmarks skipped: wrk is not installed (apt-get install wrk).");
  Deno.exit(0);
}

const interrupted = async () => {
  await stopAll();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", interrupted);
Deno.addSignalListener("SIGTERM", interrupted);
Deno.unrefTimer(setTimeout(async () => {
  log(`watchdog: still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  await stopAll();
  Deno.exit(1);
}, WATCHDOG_MS));

console.log(`# Starlight benchmarks\n\n${await environment(wrk)}\n`);
const summary: SummaryRow[] = [];
for (const [i, scenario] of selected.entries()) {
  log(`[${i + 1}/${selected.length}] ${scenario.name}: ${scenario.title}`);
  let body: string;
  try {
    const section = await scenario.run(options);
    body = section.body;
    summary.push(...section.summary);
  } catch (e) {
    body = `n/a — ${e instanceof Error ? e.message : e}`;
    log(`  ${body}`);
  }
  console.log(`## ${scenarios.indexOf(scenario) + 1}. ${scenario.title}\n\n${body}\n`);
}
if (summary.length) {
  console.log(
    `## Summary\n\n${summaryTable(summary)}\n\n` +
      "Each cell: server CPU per request (user + system, every process) and its ratio to " +
      "Deno.serve's (to `deno serve --parallel`'s for workers), then req/s; ⚠ where wrk was " +
      "the bottleneck, so req/s is its ceiling. Memory rows: idle RSS and per connection. Lost " +
      "rows: failed requests, target 0. n/a: see the scenario's notes.\n",
  );
}
Deno.exit(0);

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        scenario: { type: "string" },
        rounds: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        starlight: { type: "string" },
        only: { type: "string" },
        offline: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}; see --help`);
    Deno.exit(2);
  }
}

/** A whole number of at least 1: wrk takes whole seconds only. */
function positive(flag: string | undefined, fallback: number, name: string): number {
  const value = flag === undefined ? fallback : Number(flag);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number, at least 1`);
    Deno.exit(2);
  }
  return value;
}

/** One line saying what produced the numbers, so that reports can be compared. */
async function environment(wrk: string): Promise<string> {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1];
  let node = "node n/a";
  try {
    const { stdout } = await new Deno.Command(nodePath, { args: ["--version"] }).output();
    node = `Node ${new TextDecoder().decode(stdout).trim()}`;
  } catch {
    // Reported as n/a; the node:http rows will say why.
  }
  return [
    `Deno ${Deno.version.deno}`,
    node,
    wrk,
    `${navigator.hardwareConcurrency} cores${cpu ? ` (${cpu})` : ""}`,
    `${options.rounds} round(s) × ${options.duration} s, median shown, ${options.warmup} s warm-up`,
    new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  ].join(" · ");
}
