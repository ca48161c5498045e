import { CLIENT_CORE, pinned, SERVER_CORE } from "../lib/pinning.ts";
import { coreBusySeconds, cpuSeconds } from "../lib/procfs.ts";
import { denoServeApi, ENGINES, only, starlight } from "../lib/contenders.ts";
import { log } from "../lib/log.ts";
import { kilo } from "../lib/report.ts";
import type { Options, Scenario, Section, SummaryRow } from "../lib/scenario.ts";
import { type Contender, launch, type Server } from "../lib/servers.ts";
import { count, median, ratio, table } from "../lib/table.ts";

const CONNECTIONS = 16;
/** Messages each connection keeps in flight: every echo received sends the next. */
const IN_FLIGHT = 4;
const SIZES = [{ label: "64 B", bytes: 64 }, { label: "64 KiB", bytes: 64 * 1024 }];
const BASELINE = "Deno.serve";
// Above these shares a note says the machine was disturbed, or the client was the limit.
const DISTURBED = 0.05;
const CLIENT_BOUND = 0.9;
const clientPath = new URL("../clients/ws_load.ts", import.meta.url).pathname;

/** One measured client run: its report plus the server's CPU over the run. */
interface Sample {
  messages: number;
  seconds: number;
  /** Echoes over the whole client run, ramp included: what `serverCpu` paid for. */
  total: number;
  wrong: number;
  clientCpu: number;
  serverCpu: number;
  /** CPU seconds other processes took on the server's core during the run. */
  otherSeconds: number;
}

interface Entry {
  contender: Contender;
  server?: Server;
  failure?: string;
  /** Samples per message size. */
  samples: Map<number, Sample[]>;
}

/**
 * WebSocket echo, the same app on Starlight's `upgradeWebSocket` and on `Deno.upgradeWebSocket`:
 * binary messages of 64 B (the per-message path: frame parsing, events, one write per echo) and
 * 64 KiB (copies, masking, partial writes). Messages per second are echoes the client received.
 */
export default {
  name: "websocket",
  title: `WebSocket echo, ${CONNECTIONS} connections × ${IN_FLIGHT} binary messages in flight`,
  quick: true,
  async run(options) {
    const entries: Entry[] = only(options, [
      ...ENGINES.map((variant) =>
        starlight(options.starlight, "ws_echo_starlight", { workers: 0, variant })
      ),
      denoServeApi("ws_echo_deno"),
    ]).map((contender) => ({ contender, samples: new Map() }));
    const fail = async (entry: Entry, error: unknown) => {
      entry.failure = error instanceof Error ? error.message : String(error);
      log(`  ${entry.contender.label}: n/a (${entry.failure})`);
      await entry.server?.stop();
      entry.server = undefined;
    };

    try {
      for (const entry of entries) {
        try {
          entry.server = await launch(entry.contender, SERVER_CORE);
        } catch (e) {
          await fail(entry, e);
        }
      }
      for (const size of SIZES) {
        for (const entry of entries) {
          if (!entry.server) continue;
          try {
            await runClient(entry.server.port, size.bytes, options.warmup);
          } catch (e) {
            await fail(entry, e);
          }
        }
        for (let round = 1; round <= options.rounds; round++) {
          for (const entry of entries) {
            if (!entry.server) continue;
            try {
              const sample = await measured(entry.server, size.bytes, options);
              const list = entry.samples.get(size.bytes) ?? [];
              entry.samples.set(size.bytes, [...list, sample]);
              log(
                `  ${size.label} round ${round}/${options.rounds} ${entry.contender.label}: ` +
                  `${count(sample.messages / sample.seconds)} messages/s`,
              );
            } catch (e) {
              await fail(entry, e);
            }
          }
        }
      }
    } finally {
      await Promise.all(entries.map((e) => e.server?.stop()));
    }
    return report(entries, options);
  },
} satisfies Scenario;

async function measured(server: Server, size: number, options: Options): Promise<Sample> {
  const busyBefore = coreBusySeconds(SERVER_CORE);
  const cpuBefore = cpuSeconds(server.pid);
  const result = await runClient(server.port, size, options.duration);
  const serverCpu = cpuSeconds(server.pid) - cpuBefore;
  const otherSeconds = coreBusySeconds(SERVER_CORE) - busyBefore - serverCpu;
  return { ...result, serverCpu, otherSeconds };
}

/** Runs the load client on the client core; throws its stderr's last line if it fails. */
async function runClient(
  port: number,
  size: number,
  seconds: number,
): Promise<Omit<Sample, "serverCpu" | "otherSeconds">> {
  const [cmd, ...args] = pinned(CLIENT_CORE, [
    Deno.execPath(),
    "run",
    "-A",
    clientPath,
    String(port),
    String(size),
    String(CONNECTIONS),
    String(IN_FLIGHT),
    String(seconds),
  ]);
  const output = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((seconds + 20) * 1000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!output.success) {
    throw new Error(decode(output.stderr).split("\n").at(-1) || "the WebSocket client failed");
  }
  return JSON.parse(decode(output.stdout));
}

function report(entries: Entry[], options: Options): Section {
  const rate = (samples: Sample[]) => median(samples.map((s) => s.messages / s.seconds));
  const cpu = (samples: Sample[]) => median(samples.map((s) => s.serverCpu / s.total)) * 1e6;
  const rows: string[][] = [];
  const notes: string[] = [];
  const summary: SummaryRow[] = [];
  for (const size of SIZES) {
    const base = entries.find((e) => e.contender.label === BASELINE)?.samples.get(size.bytes);
    const cells: Record<string, string> = {};
    summary.push({ scenario: `WebSocket echo, ${size.label} messages`, cells });
    for (const entry of entries) {
      const samples = entry.samples.get(size.bytes);
      const column = entry.contender.column;
      if (!samples?.length) {
        rows.push([entry.contender.label, size.label, "n/a", "n/a", "n/a", "n/a"]);
        if (column) cells[column] = "n/a";
        continue;
      }
      const perMessage = cpu(samples);
      const baseCpu = base?.length ? cpu(base) : undefined;
      rows.push([
        entry.contender.label,
        size.label,
        `${perMessage.toFixed(2)} µs`,
        ratio(perMessage, baseCpu),
        count(rate(samples)),
        ratio(rate(samples), base?.length ? rate(base) : undefined),
      ]);
      if (column) {
        const vs = samples === base ? "" : ` (${ratio(perMessage, baseCpu)})`;
        cells[column] = `${perMessage.toFixed(1)} µs${vs}, ${kilo(rate(samples))} msg/s`;
      }
      const where = `${entry.contender.label}, ${size.label}`;
      const wrong = samples.reduce((sum, s) => sum + s.wrong, 0);
      if (wrong) notes.push(`- ${where}: ${count(wrong)} echoes of the wrong size or type`);
      const other = median(samples.map((s) => s.otherSeconds / s.seconds));
      if (other > DISTURBED) {
        notes.push(
          `- ${where}: other processes took ${Math.round(other * 100)} % of the server's core ` +
            "(median); rerun before trusting differences of that size.",
        );
      }
      const client = median(samples.map((s) => s.clientCpu / s.seconds));
      if (client > CLIENT_BOUND) {
        notes.push(
          `- ${where}: the client used ${Math.round(client * 100)} % of its core; ` +
            "messages/s may be the client's limit, CPU / message is the server's own.",
        );
      }
    }
  }
  for (const entry of entries) {
    if (entry.failure) notes.push(`- ${entry.contender.label}: n/a — ${entry.failure}`);
  }
  const mine = new URL("../../mod.ts", import.meta.url).pathname;
  if (options.starlight !== mine) {
    notes.push(
      "- `--starlight` is another checkout: it serves, but the app's `upgradeWebSocket` is " +
        "this checkout's (`bench/apps/ws_echo_starlight.ts` imports `../../lib/websocket/mod.ts`).",
    );
  }
  const head = [
    "Server",
    "message",
    "server CPU / message",
    "CPU vs base",
    "messages/s",
    "msg/s vs base",
  ];
  const body = [
    table(head, rows),
    "The same echo app (`apps/ws_echo_*.ts`, differing only in where `upgradeWebSocket` comes " +
    `from), Starlight with \`--workers 0\`. A client of Deno's \`WebSocket\` on the other core ` +
    `(\`clients/ws_load.ts\`) keeps ${IN_FLIGHT} messages in flight on each connection; ` +
    "messages/s counts echoes received. Server CPU / message is the server's user + system " +
    "time over the run divided by the echoes: lower is better, and the client does not move it.",
    notes.join("\n"),
  ].filter(Boolean).join("\n\n");
  return { body, summary };
}
