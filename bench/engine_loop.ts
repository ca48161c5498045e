/**
 * The engine's own JavaScript cost per request: the real connection loop of the Starlight at
 * `--starlight` (default: this checkout) driven over an in-memory `Deno.Conn` that hands it the
 * same request forever and swallows what it writes (`tests/_helpers/memory_conn.ts`). No
 * sockets, no syscalls, nothing else on the machine can move the figure, so it shows the effect
 * of an engine change directly. For an A/B, run it against a worktree of the other commit with
 * `--starlight=/tmp/other/mod.ts`, alternating, and compare the ranges.
 *
 * `deno run -A bench/engine_loop.ts [--starlight=path/to/mod.ts] [--requests=N] [--case=TEXT]`
 * prints JSON: µs per request for each case (only those whose name contains TEXT, if given), the
 * best of three rounds after a warm-up, as CPU time of the process (user + system), which other
 * load on a shared machine moves far less than elapsed time.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { repeatingConn } from "../tests/_helpers/memory_conn.ts";

const { values } = parseArgs({
  options: {
    starlight: { type: "string" },
    requests: { type: "string" },
    case: { type: "string" },
  },
});
const root = values.starlight === undefined
  ? new URL("../mod.ts", import.meta.url)
  : new URL(values.starlight, `file://${Deno.cwd()}/`);
const lib = (path: string) => new URL(`lib/${path}`, root).href;
await import(lib("http/node_reasons.ts"));
// lib/engine/ since the layout by concern; lib/ before it, for `--starlight` at older checkouts.
const { Connection } = await import(lib("engine/connection.ts")).catch(() =>
  import(lib("connection.ts"))
);
const { DEFAULT_HEAD_LIMITS } = await import(lib("http/head.ts"));
const requests = Number(values.requests ?? 200_000);

const WRK_GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
const BROWSER_GET = "GET /search?q=starlight&page=2 HTTP/1.1\r\nHost: example.test\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36\r\n" +
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
  "Accept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n" +
  "Cookie: session=0123456789abcdef; theme=dark\r\nConnection: keep-alive\r\n\r\n";

const POST_JSON = "POST /api/items HTTP/1.1\r\nHost: example.test\r\n" +
  "Content-Type: application/json\r\nContent-Length: 26\r\n\r\n" + '{"name":"x","count":12345}';

const cases: {
  name: string;
  request: string;
  handler: (r: Request) => Response | Promise<Response>;
}[] = [
  { name: "hello (wrk request)", request: WRK_GET, handler: () => new Response("Hello, World!\n") },
  {
    name: "Response.json, reads url",
    request: WRK_GET,
    handler: (r) => Response.json({ url: r.url }),
  },
  {
    name: "browser request, reads 2 headers",
    request: BROWSER_GET,
    handler: (r) =>
      new Response(`${r.headers.get("user-agent")?.length} ${r.headers.get("cookie")?.length}`),
  },
  {
    name: "JSON POST, reads json()",
    request: POST_JSON,
    handler: async (r) => Response.json(await r.json()),
  },
];

const results: Record<string, number> = {};
for (const c of cases) {
  if (values.case !== undefined && !c.name.includes(values.case)) continue;
  const owner = {
    options: {
      handler: c.handler,
      timeout: 300_000,
      headerTimeout: 30_000,
      keepaliveTimeout: 5_000,
      maxKeepaliveRequests: Infinity,
      maxRequestBody: Infinity,
      serverSoftware: "Starlight/bench",
      development: false,
      limits: DEFAULT_HEAD_LIMITS,
    },
    draining: false,
    retiring: false,
    // The owner's name for `retiring` before the engine's names were settled (A/B runs).
    winding: false,
    drainSignal: new AbortController().signal,
    requestStarted: () => true,
    responded() {},
    healthy: true,
    access: undefined,
    warn: (message: string, error: unknown) => console.error(message, error),
    closed() {},
  };
  const bytes = new TextEncoder().encode(c.request);
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    const start = cpuUsage();
    await new Connection(repeatingConn(bytes, requests), owner, "http").run();
    const used = cpuUsage(start);
    const perRequest = (used.user + used.system) / requests;
    if (round > 0) best = Math.min(best, perRequest);
  }
  results[c.name] = best;
}
console.log(JSON.stringify(results));
