/**
 * A/B for `lib/deno/socket_write.ts`: CPU per write through `conn.write` against Deno's write op
 * called directly, on one loopback connection (a 40-byte write, then the peer reads it), in
 * alternating rounds in one process. Prints µs per write (user + system), the median of rounds.
 *
 * `deno run -A bench/ab/write_op.ts [--writes=N] [--rounds=N]`
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { socketWriter } from "../../lib/deno/socket_write.ts";

const { values } = parseArgs({
  options: { writes: { type: "string" }, rounds: { type: "string" } },
});
const writes = Number(values.writes ?? 100_000);
const rounds = Number(values.rounds ?? 7);

using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
const server = await listener.accept();
const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n");
const into = new Uint8Array(4096);
const direct = socketWriter(server);
const viaConn = (b: Uint8Array) => server.write(b);

async function round(write: (b: Uint8Array) => Promise<number>): Promise<number> {
  const before = cpuUsage();
  for (let i = 0; i < writes; i++) {
    await write(bytes);
    await client.read(into);
  }
  const used = cpuUsage(before);
  return (used.user + used.system) / writes;
}

const results: Record<string, number[]> = { "conn.write": [], "write op": [] };
await round(viaConn);
await round(direct);
for (let r = 0; r < rounds; r++) {
  results["conn.write"].push(await round(viaConn));
  results["write op"].push(await round(direct));
}
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[xs.length >> 1];
console.log(JSON.stringify(Object.fromEntries(
  Object.entries(results).map(([k, xs]) => [k, Number(median(xs).toFixed(3))]),
)));
client.close();
server.close();
