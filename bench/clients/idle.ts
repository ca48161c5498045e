/**
 * Opens many keep-alive connections, sends one request on each, then leaves them all idle: the
 * load for the memory scenario. A separate process, so its sockets don't count in the server's RSS.
 *
 * Usage: deno run -A bench/clients/idle.ts <port> <connections> <max hold seconds>
 * Prints `ready <open> <failed>` once every connection has had its response, then holds them until
 * stdin closes (or the hold time runs out) and prints `held <still open>` before exiting.
 */
const [port, total, holdSeconds] = Deno.args.map(Number);
// Enough connects in flight to finish quickly without overflowing the server's accept backlog.
const CONCURRENCY = 200;

const request = new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
let started = 0;
let open = 0;
let failed = 0;
let closedByServer = 0;

async function openOne(): Promise<void> {
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    for (let sent = 0; sent < request.length;) sent += await conn.write(request.subarray(sent));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    if (n === null || !new TextDecoder().decode(buffer.subarray(0, n)).startsWith("HTTP/1.1 200")) {
      throw new Error("no 200 response");
    }
    open++;
    watch(conn, buffer);
  } catch {
    conn?.close();
    failed++;
  }
}

/** Counts the connection as lost if the server ever closes it while it should be idle. */
async function watch(conn: Deno.Conn, buffer: Uint8Array): Promise<void> {
  try {
    while (await conn.read(buffer) !== null) {
      // Only the rest of the response can arrive; nothing more is expected.
    }
  } catch {
    // A reset is a close too.
  }
  closedByServer++;
}

await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (started < total) {
    started++;
    await openOne();
  }
}));
console.log(`ready ${open} ${failed}`);

const released = (async () => {
  for await (const _ of Deno.stdin.readable) {
    // Drain until the parent closes stdin.
  }
})();
await Promise.race([released, new Promise((r) => setTimeout(r, holdSeconds * 1000))]);
console.log(`held ${open - closedByServer}`);
Deno.exit(0);
