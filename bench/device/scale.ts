/**
 * How Starlight's workers scale against `deno serve --parallel` with the same count, on a
 * machine with cores to spare: for each N, the servers get cores 0..N-1 and wrk the cores they
 * do not use, so the load generator never competes with them. Reports req/s and CPU per request
 * per N, written as Markdown to `<out>/scale.md` after every N (a cut-short run keeps what it
 * measured) and as raw samples to `<out>/scale.json`. Run by `bench/device/scale.sh`.
 *
 * Usage: deno run -A bench/device/scale.ts --out=DIR [--workers=1,2,4,8,12] [--rounds=3]
 *                                          [--duration=5] [--warmup=2] [--budget=390]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { denoServeCli, ENGINES, starlight } from "../lib/contenders.ts";
import { log } from "../lib/log.ts";
import { CLIENT_BOUND, cpuPerRequest } from "../lib/report.ts";
import { measure, type Outcome } from "../lib/rounds.ts";
import type { Options } from "../lib/scenario.ts";
import { stopAll } from "../lib/servers.ts";
import { count, median, percent, ratio, table } from "../lib/table.ts";
import { wrkVersion } from "../lib/wrk.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "." },
    workers: { type: "string", default: "1,2,4,8,12" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    /** Seconds after which no further N is started, so the run ends in its time slot. */
    budget: { type: "string", default: "390" },
    connections: { type: "string", default: "50" },
  },
});

const cores = navigator.hardwareConcurrency;
const counts = values.workers.split(",").map(Number);
const perWorker = Number(values.connections);
const budgetMs = Number(values.budget) * 1000;
const options: Options = {
  rounds: Number(values.rounds),
  duration: Number(values.duration),
  warmup: Number(values.warmup),
  quick: false,
  starlight: new URL("../../mod.ts", import.meta.url).pathname,
  installBun: false,
};
const started = performance.now();
Deno.mkdirSync(values.out, { recursive: true });
Deno.addSignalListener("SIGTERM", async () => {
  await stopAll();
  Deno.exit(143);
});

interface Step {
  workers: number;
  serverCores: string;
  clientCores: string;
  threads: number;
  connections: number;
  outcomes: Outcome[];
  skipped?: string;
}

const steps: Step[] = [];
const header = await environment();
for (const workers of counts) {
  // wrk takes the upper half of the machine, or what the servers leave when they need more.
  const clientFrom = Math.max(workers, Math.floor(cores / 2));
  const step: Step = {
    workers,
    serverCores: workers === 1 ? "0" : `0-${workers - 1}`,
    clientCores: clientFrom === cores - 1 ? String(clientFrom) : `${clientFrom}-${cores - 1}`,
    threads: cores - clientFrom,
    connections: perWorker * workers,
    outcomes: [],
  };
  steps.push(step);
  if (clientFrom >= cores) {
    step.skipped = `${cores} cores leave none for wrk`;
  } else if (performance.now() - started > budgetMs) {
    step.skipped = `time budget of ${values.budget} s spent`;
  }
  if (step.skipped) {
    log(`N=${workers}: skipped (${step.skipped})`);
    write();
    continue;
  }
  log(
    `N=${workers}: servers on cores ${step.serverCores}, wrk -t${step.threads} ` +
      `-c${step.connections} on ${step.clientCores}`,
  );
  const contenders = [
    ...ENGINES.map((variant) => starlight(options.starlight, "hello", { workers, variant })),
    denoServeCli("hello", workers),
  ];
  step.outcomes = await measure(
    contenders,
    { connections: step.connections, threads: step.threads },
    options,
    { serverCores: step.serverCores, clientCores: step.clientCores },
  );
  write();
}
log(`done in ${Math.round((performance.now() - started) / 1000)} s: ${values.out}/scale.md`);
Deno.exit(0);

/** Rewrites scale.md and scale.json with every step so far. */
function write(): void {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const step of steps) {
    if (step.skipped) {
      rows.push([String(step.workers), "skipped", "", "", "", "", ""]);
      notes.push(`- N=${step.workers}: skipped, ${step.skipped}.`);
      continue;
    }
    const base = step.outcomes.find((o) => o.label.startsWith("deno serve") && o.samples.length);
    for (const o of step.outcomes) {
      if (!o.samples.length) {
        rows.push([String(step.workers), o.label, "n/a", "", "", "", ""]);
        if (o.failure) notes.push(`- N=${step.workers}, ${o.label}: n/a — ${o.failure}`);
        continue;
      }
      const rps = median(o.samples.map((s) => s.wrk.rps));
      const cpu = median(o.samples.map(cpuPerRequest));
      const wrkBusy = median(o.samples.map((s) => s.wrk.clientBusy));
      const baseRps = base && median(base.samples.map((s) => s.wrk.rps));
      const baseCpu = base && median(base.samples.map(cpuPerRequest));
      rows.push([
        String(step.workers),
        o.label,
        count(rps),
        ratio(rps, baseRps),
        `${cpu.toFixed(2)} µs`,
        ratio(cpu, baseCpu),
        percent(wrkBusy) + (wrkBusy >= CLIENT_BOUND ? " ⚠" : ""),
      ]);
      const errors = o.samples.reduce((n, s) => {
        const e = s.wrk.socketErrors;
        return n + s.wrk.non2xx + e.connect + e.read + e.write + e.timeout;
      }, 0);
      if (errors) notes.push(`- N=${step.workers}, ${o.label}: ${count(errors)} errors or non-2xx`);
    }
  }
  const placement = steps.filter((s) => !s.skipped).map((s) =>
    `N=${s.workers}: servers on cores ${s.serverCores}, ` +
    `wrk -t${s.threads} -c${s.connections} on cores ${s.clientCores}`
  );
  const markdown = [
    "# Scaling: Starlight --workers N vs deno serve --parallel (DENO_JOBS=N)",
    header,
    table(
      ["N", "Server", "req/s", "vs deno serve", "CPU / req", "CPU vs deno serve", "wrk CPU"],
      rows,
      2,
    ),
    "req/s: median of the rounds. CPU / req: user + system time of every server process and " +
    "thread (from /proc) over the requests wrk counted; lower is better. wrk CPU: its share of " +
    `its cores; ⚠ at ${percent(CLIENT_BOUND)} or more, where req/s is wrk's ceiling rather than ` +
    "the server's.",
    placement.map((p) => `- ${p}`).join("\n"),
    notes.join("\n"),
  ].filter(Boolean).join("\n\n") + "\n";
  Deno.writeTextFileSync(`${values.out}/scale.md`, markdown);
  Deno.writeTextFileSync(`${values.out}/scale.json`, JSON.stringify(steps, null, 1));
}

async function environment(): Promise<string> {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1];
  return [
    `Deno ${Deno.version.deno}`,
    (await wrkVersion()) ?? "wrk n/a",
    `${cores} cores${cpu ? ` (${cpu})` : ""}`,
    `${options.rounds} round(s) × ${options.duration} s, median shown, ${options.warmup} s warm-up`,
    `${perWorker} connections per worker`,
    new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  ].join(" · ");
}
