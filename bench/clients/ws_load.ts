/**
 * WebSocket echo load for the websocket scenario: opens `connections` sockets with Deno's
 * `WebSocket` to ws://127.0.0.1:<port>/, keeps `inflight` binary messages of `size` bytes in flight
 * on each (every echo sends the next), and counts the echoes.
 *
 * Usage: deno run -A bench/clients/ws_load.ts <port> <size> <connections> <inflight> <seconds>
 *
 * Counting starts after a short ramp (every socket open, the first messages out) and lasts
 * `seconds`. Prints one JSON line and exits:
 * `{ messages, seconds, total, wrong, clientCpu }` — echoes counted in the window, the window's
 * length, echoes over the whole run (ramp included, for CPU per message), echoes of the wrong
 * size or type, and the CPU seconds this client used in the window (near `seconds` means the
 * client, not the server, was the limit). Bounded in time: it gives up after `seconds` + 15 s.
 */
import process from "node:process";

const [port, size, connections, inflight, seconds] = Deno.args.map(Number);
if (![port, size, connections, inflight, seconds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("usage: ws_load.ts <port> <size> <connections> <inflight> <seconds>");
  Deno.exit(2);
}

const RAMP_MS = 100;
const OPEN_TIMEOUT_MS = 5_000;
const CLOSE_WAIT_MS = 1_000;

// Whatever happens, the harness gets its process back.
Deno.unrefTimer(setTimeout(() => {
  console.error("ws_load: timed out");
  Deno.exit(1);
}, (seconds + 15) * 1000));

const payload = new Uint8Array(size).map((_, i) => i & 0xff);
let counting = false;
let stopped = false;
let messages = 0;
let total = 0;
let wrong = 0;

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => reject(new Error("open timed out")), OPEN_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error((e as ErrorEvent).message || "connection failed"));
    };
  });
}

let sockets: WebSocket[];
try {
  sockets = await Promise.all(Array.from({ length: connections }, open));
} catch (e) {
  console.error(`ws_load: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}

let failure: string | undefined;
for (const ws of sockets) {
  ws.onmessage = (event) => {
    total++;
    if (counting) messages++;
    if (!(event.data instanceof ArrayBuffer) || event.data.byteLength !== size) wrong++;
    if (!stopped) ws.send(payload);
  };
  ws.onerror = (e) => failure ??= (e as ErrorEvent).message || "socket error";
  ws.onclose = (e) => {
    if (!stopped) failure ??= `closed by the server (${e.code})`;
  };
  for (let i = 0; i < inflight; i++) ws.send(payload);
}

await new Promise((r) => setTimeout(r, RAMP_MS));
counting = true;
const cpuBefore = process.cpuUsage();
const start = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
counting = false;
const elapsed = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuBefore);
stopped = true;

const closed = sockets.map((ws) => new Promise((r) => ws.addEventListener("close", r)));
for (const ws of sockets) ws.close(1000);
await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);

if (failure) {
  console.error(`ws_load: ${failure}`);
  Deno.exit(1);
}
console.log(JSON.stringify({
  messages,
  seconds: elapsed,
  total,
  wrong,
  clientCpu: (cpu.user + cpu.system) / 1e6,
}));
Deno.exit(0);
