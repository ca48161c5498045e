/**
 * Measures the two listen modes (`shared`: Deno's one-queue `loadBalanced` socket, held by the
 * supervisor; `reuseport`: a socket per worker, balanced by the kernel) on what decides the
 * default. Not a test: run it by hand, the figures go into `docs/listen-modes.md`.
 *
 * ```sh
 * deno run -A bench/listen_modes.ts [spread|restart|hang|hijack|privileges|all]
 * ```
 *
 * `restart` also runs reuseport with `net.ipv4.tcp_migrate_req=1` when it can set that sysctl
 * (root, Linux ≥ 5.14); the old value is put back.
 *
 * @module
 */

import { startServer } from "../tests/_helpers/server.ts";
import {
  Client,
  failureCount,
  getOnce,
  type LoadResult,
  runLoad,
} from "../tests/_helpers/load_client.ts";
import { appArgs, fixtures } from "../tests/_helpers/supervisor.ts";

const MODES = ["shared", "reuseport"] as const;
const which = Deno.args[0] ?? "all";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failures(result: LoadResult): string {
  const parts = [...result.failures].map(([kind, n]) => `${n} ${kind}`);
  return parts.length === 0 ? "0" : parts.join(", ");
}

function spreadOf(counts: number[]): string {
  const sorted = [...counts].sort((a, b) => b - a);
  return `${sorted.join(" / ")} (max/min ${(sorted[0] / Math.max(1, sorted.at(-1)!)).toFixed(1)})`;
}

async function spread(): Promise<void> {
  console.log("\n## Spread of keep-alive connections over 4 workers (2 CPUs)");
  for (const mode of MODES) {
    for (const opening of ["at once", "one by one"]) {
      const rounds: string[] = [];
      const requestRounds: string[] = [];
      for (let round = 0; round < 3; round++) {
        const server = await startServer([
          "--port",
          "0",
          "--workers",
          "4",
          "--listen-mode",
          mode,
          `${fixtures}versioned.ts`,
        ]);
        await server.waitFor(/worker 4 started/);
        const clients: Client[] = [];
        const byWorker = new Map<string, number>();
        const connect = async () => {
          const client = await Client.connect(server.port);
          clients.push(client);
          const id = (await client.get("/")).body.split(" ")[1];
          byWorker.set(id, (byWorker.get(id) ?? 0) + 1);
        };
        if (opening === "at once") await Promise.all(Array.from({ length: 64 }, connect));
        else for (let i = 0; i < 64; i++) await connect().then(() => sleep(5));
        while (byWorker.size < 4) byWorker.set(`none${byWorker.size}`, 0);
        rounds.push(spreadOf([...byWorker.values()]));
        // Then 2 s of requests on those connections.
        const served = new Map<string, number>();
        const stop = Date.now() + 2000;
        await Promise.all(clients.map(async (client, i) => {
          while (Date.now() < stop) {
            const reply = await client.get("/");
            const id = reply.body.split(" ")[1];
            served.set(id, (served.get(id) ?? 0) + 1);
            // --max-keepalive-reqs (1000) ends a connection now and then: open another.
            if (reply.close) client = clients[i] = await Client.connect(server.port);
          }
        }));
        while (served.size < 4) served.set(`none${served.size}`, 0);
        requestRounds.push(spreadOf([...served.values()]));
        for (const client of clients) client.close();
        await server.stop();
      }
      console.log(
        `- ${mode}, 64 connections opened ${opening}: connections per worker ${rounds.join("; ")}`,
      );
      console.log(`  requests per worker in 2 s: ${requestRounds.join("; ")}`);
    }
  }
}

async function setMigrate(value: string): Promise<string | undefined> {
  const path = "/proc/sys/net/ipv4/tcp_migrate_req";
  try {
    const before = (await Deno.readTextFile(path)).trim();
    await Deno.writeTextFile(path, value);
    return before;
  } catch {
    return undefined;
  }
}

async function restartLosses(): Promise<void> {
  console.log(
    "\n## Requests lost over 5 HUP restarts under load (2 workers; 6 keep-alive + 6 new-connection clients)",
  );
  const variants: [string, string, string | undefined][] = [["shared", "shared", undefined], [
    "reuseport",
    "reuseport",
    undefined,
  ], [
    "reuseport + tcp_migrate_req=1",
    "reuseport",
    "1",
  ]];
  for (const [label, mode, migrate] of variants) {
    let restore: string | undefined;
    if (migrate !== undefined) {
      restore = await setMigrate(migrate);
      if (restore === undefined) {
        console.log(`- ${label}: cannot set the sysctl here, skipped`);
        continue;
      }
    }
    try {
      const lines: string[] = [];
      for (let round = 0; round < 3; round++) {
        const server = await startServer([
          "--port",
          "0",
          "--workers",
          "2",
          "--listen-mode",
          mode,
          `${fixtures}versioned.ts`,
        ]);
        await server.waitFor(/worker 2 started/);
        await sleep(150);
        const stop = new AbortController();
        const kept = runLoad({ port: server.port, clients: 6 }, stop.signal);
        const fresh = runLoad({ port: server.port, clients: 6, closeEach: true }, stop.signal);
        for (let i = 1; i <= 5; i++) {
          await sleep(300);
          server.kill("SIGHUP");
          await server.waitFor(
            new RegExp(`(restart (finished|stopped)[^\\n]*\\n[^]*){${i}}`),
            15_000,
          );
        }
        await sleep(300);
        stop.abort();
        const [a, b] = await Promise.all([kept, fresh]);
        lines.push(
          `keep-alive ${failures(a)} of ${a.ok + failureCount(a)}, new connections ${
            failures(b)
          } of ${b.ok + failureCount(b)}`,
        );
        await server.stop();
      }
      console.log(`- ${label}:\n  ${lines.join("\n  ")}`);
    } finally {
      if (restore !== undefined) await setMigrate(restore);
    }
  }
}

async function hang(): Promise<void> {
  console.log(
    "\n## New connections while one of 2 workers is stuck in an endless loop",
  );
  for (const mode of MODES) {
    const server = await startServer([
      "--port",
      "0",
      "--workers",
      "2",
      "--listen-mode",
      mode,
      ...appArgs,
    ]);
    await server.waitFor(/worker 2 started/);
    await getOnce(server.port, "/hang");
    await sleep(200);
    let ok = 0;
    let stuck = 0;
    await Promise.all(Array.from({ length: 40 }, async () => {
      try {
        await getOnce(server.port, "/", 2000);
        ok++;
      } catch {
        stuck++;
      }
    }));
    const before = `${ok} answered, ${stuck} unanswered after 2 s (of 40)`;
    await server.waitFor(/worker 3 started/, 15_000);
    ok = 0;
    stuck = 0;
    await Promise.all(Array.from({ length: 40 }, async () => {
      try {
        await getOnce(server.port, "/", 2000);
        ok++;
      } catch {
        stuck++;
      }
    }));
    console.log(
      `- ${mode}: before detection ${before}; after it was replaced ${ok} answered, ${stuck} unanswered`,
    );
    server.kill("SIGKILL");
    await server.exited();
  }
}

async function hijack(): Promise<void> {
  console.log("\n## Another process (same user) listening with reusePort on the server's port");
  for (const mode of MODES) {
    const server = await startServer([
      "--port",
      "0",
      "--workers",
      "2",
      "--listen-mode",
      mode,
      `${fixtures}versioned.ts`,
    ]);
    await server.waitFor(/worker 2 started/);
    const code = `
      let l; try { l = Deno.listen({ hostname: "0.0.0.0", port: ${server.port}, reusePort: true }); }
      catch (e) { console.log("refused: " + e.name); Deno.exit(0); }
      console.log("bound");
      for await (const c of l) { c.write(new TextEncoder().encode("HTTP/1.1 200 OK\\r\\ncontent-length: 8\\r\\nconnection: close\\r\\n\\r\\nhijacked")).then(() => c.close(), () => {}); }`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--unstable-net", code],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = (await reader.read()).value?.trim() ?? "";
    let stolen = 0;
    if (first === "bound") {
      for (let i = 0; i < 200; i++) {
        if ((await getOnce(server.port)).body === "hijacked") stolen++;
      }
    }
    console.log(
      `- ${mode}: ${first}${
        first === "bound" ? `; ${stolen} of 200 new connections went to the intruder` : ""
      }`,
    );
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await reader.cancel();
    await child.status;
    await server.stop();
  }
}

async function privileges(): Promise<void> {
  console.log("\n## Restart after dropping root (--user nobody, port 81)");
  if (Deno.uid() !== 0) {
    console.log("- skipped: not root");
    return;
  }
  for (const mode of MODES) {
    const args = [
      "--port",
      "81",
      "--workers",
      "2",
      "--listen-mode",
      mode,
      "--user",
      "nobody",
      `${fixtures}versioned.ts`,
    ];
    const server = await startServer(args);
    await server.waitFor(/worker 2 started/);
    await sleep(150);
    server.kill("SIGHUP");
    await server.waitFor(/restart (finished|stopped)[^\n]*/);
    const line = server.stderr().match(/restart (finished|stopped)[^\n]*/)![0];
    const reason = server.stderr().match(/could not start: ([^\n]*)/)?.[1];
    console.log(`- ${mode}: ${line}${reason ? ` (${reason})` : ""}`);
    await server.stop();
  }
}

if (which === "spread" || which === "all") await spread();
if (which === "restart" || which === "all") await restartLosses();
if (which === "hang" || which === "all") await hang();
if (which === "hijack" || which === "all") await hijack();
if (which === "privileges" || which === "all") await privileges();
