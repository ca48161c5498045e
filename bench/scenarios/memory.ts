import {
  bun,
  denoServeApi,
  denoServeCli,
  ENGINES,
  nodeHttp,
  only,
  starlight,
} from "../lib/contenders.ts";
import { log } from "../lib/log.ts";
import { CLIENT_CORE, pinned, SERVER_CORE } from "../lib/pinning.ts";
import { rssKiB } from "../lib/procfs.ts";
import type { Scenario } from "../lib/scenario.ts";
import { type Contender, launch, type Server } from "../lib/servers.ts";
import { count, mib, table } from "../lib/table.ts";

const CONNECTIONS = 10_000;
// Lets lazy start-up work (worker isolates, first GC) finish before a reading.
const SETTLE_MS = 1000;
const clientPath = new URL("../clients/idle.ts", import.meta.url).pathname;

interface Row {
  label: string;
  column?: string;
  oneWorker: Contender;
  twoWorkers?: Contender;
}

/**
 * Resident memory: the fixed cost of a worker, and the cost of each idle keep-alive connection,
 * which decides how many clients a small box can hold.
 */
export default {
  name: "memory",
  title: `Memory: idle, and with ${count(CONNECTIONS)} idle keep-alive connections`,
  quick: true,
  async run(options) {
    const rows: Row[] = [
      ...ENGINES.map((variant) => ({
        label: variant.label,
        column: variant.column,
        oneWorker: starlight(options.starlight, "hello", { workers: 1, variant }),
        twoWorkers: starlight(options.starlight, "hello", { workers: 2, variant }),
      })),
      { label: "Deno.serve", column: "Deno.serve", oneWorker: denoServeApi("hello") },
      {
        label: "deno serve",
        column: "deno serve",
        oneWorker: denoServeCli("hello"),
        twoWorkers: denoServeCli("hello", 2),
      },
      { label: "node:http", column: "node:http", oneWorker: nodeHttp("hello") },
      { label: "Bun", column: "Bun", oneWorker: bun("hello", options) },
    ].filter((row) => only(options, [row.oneWorker]).length);
    const cells: string[][] = [];
    const failures: string[] = [];
    const idleCells: Record<string, string> = {};
    const connCells: Record<string, string> = {};
    for (const row of rows) {
      const one = await attempt(row.oneWorker, async (server) => {
        const idle = rssKiB(server.pid);
        const loaded = await withIdleConnections(server);
        return { idle, ...loaded };
      }, failures);
      const two = row.twoWorkers && await attempt(row.twoWorkers, (s) => rssKiB(s.pid), failures);
      const perConn = one && (one.loaded - one.idle) / CONNECTIONS;
      cells.push([
        row.label,
        one ? mib(one.idle) : "n/a",
        two ? mib(two) : "n/a",
        one ? mib(one.loaded) : "n/a",
        perConn !== undefined ? `${perConn.toFixed(1)} KiB` : "n/a",
        one ? `${count(one.held)} / ${count(CONNECTIONS)}` : "n/a",
      ]);
      if (row.column) {
        idleCells[row.column] = one
          ? mib(one.idle) + (one && two ? ` / +${mib(two - one.idle)}` : "")
          : "n/a";
        connCells[row.column] = perConn !== undefined ? `${perConn.toFixed(1)} KiB` : "n/a";
      }
    }
    const head = [
      "Server",
      "idle, 1 worker",
      "idle, 2 workers",
      `${count(CONNECTIONS)} conns, 1 worker`,
      "per conn",
      "conns held",
    ];
    const body = [
      table(head, cells),
      "RSS is VmRSS of the server process (and any children). 1 worker: Starlight " +
      "`--workers 1` (supervisor + one worker), `deno serve`, and the single-threaded " +
      "Deno.serve, node:http and Bun; 2 workers: Starlight `--workers 2` and `deno serve " +
      "--parallel` with DENO_JOBS=2. Per conn is the growth from idle, so it includes the " +
      "one-off warm-up of the request path. Conns held: those still open when the RSS was read " +
      "(node:http's keep-alive timeout is raised to 120 s, Bun's idle timeout to 120 s).",
      failures.join("\n"),
    ].filter(Boolean).join("\n\n");
    return {
      body,
      summary: [
        { scenario: "idle resident memory, 1 worker / each further worker", cells: idleCells },
        {
          scenario: `per idle keep-alive connection (${count(CONNECTIONS)} held)`,
          cells: connCells,
        },
      ],
    };
  },
} satisfies Scenario;

/** Runs `read` on the settled server, or records why there was none and returns undefined. */
async function attempt<T>(
  contender: Contender,
  read: (server: Server) => T | Promise<T>,
  failures: string[],
): Promise<T | undefined> {
  let server: Server | undefined;
  try {
    server = await launch(contender, SERVER_CORE);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return await read(server);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    log(`  ${contender.label}: n/a (${reason})`);
    failures.push(`- ${contender.label}: n/a — ${reason}`);
  } finally {
    await server?.stop();
  }
}

/** Opens the idle connections from a client process and reads the server's RSS meanwhile. */
async function withIdleConnections(server: Server): Promise<{ loaded: number; held: number }> {
  const [cmd, ...args] = pinned(CLIENT_CORE, [
    Deno.execPath(),
    "run",
    "-A",
    clientPath,
    String(server.port),
    String(CONNECTIONS),
    "60",
  ]);
  const client = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(90_000),
  }).spawn();
  try {
    const output = lines(client.stdout);
    const ready = (await output.next()).value?.split(" ");
    if (ready?.[0] !== "ready") throw new Error("idle client did not report ready");
    log(`  ${server.label}: ${ready[1]} idle connections open, ${ready[2]} failed`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loaded = rssKiB(server.pid);
    await client.stdin.close();
    const held = Number((await output.next()).value?.split(" ")[1] ?? 0);
    return { loaded, held };
  } finally {
    try {
      client.kill();
    } catch {
      // It exited by itself, as it should once stdin closed.
    }
    await client.status;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    for (let i; (i = buffered.indexOf("\n")) >= 0; buffered = buffered.slice(i + 1)) {
      yield buffered.slice(0, i);
    }
  }
}
