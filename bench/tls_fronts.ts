/**
 * What terminating TLS in front threads costs (issue 13, item 10): HTTPS keep-alive requests per
 * second and new connections per second (`Connection: close`), for each TLS engine (`shared`:
 * `node:tls`; `reuseport`: `Deno.listenTls`), against another checkout of Starlight (the commit
 * before, where workers held the key and terminated TLS themselves). Rounds are interleaved;
 * the figures go into `docs/listeners.md`. Not a test: run it by hand.
 *
 * ```sh
 * deno run -A bench/tls_fronts.ts /path/to/old/checkout [seconds] [rounds] [workers]
 * ```
 *
 * The server runs on core 0 (with `workers` 1) or on both, wrk on core 1 with one thread.
 *
 * @module
 */

import { BOTH_CORES, CLIENT_CORE, pinned, SERVER_CORE } from "./lib/pinning.ts";
import { cpuSeconds } from "./lib/procfs.ts";

const [oldRoot, secondsArg, roundsArg, workersArg] = Deno.args;
if (oldRoot === undefined) {
  console.error("usage: deno run -A bench/tls_fronts.ts OLD_CHECKOUT [seconds] [rounds] [workers]");
  Deno.exit(2);
}
const seconds = Number(secondsArg ?? 5);
const rounds = Number(roundsArg ?? 3);
const workers = Number(workersArg ?? 1);
const newRoot = new URL("../", import.meta.url).pathname;
const app = new URL("./apps/hello.ts", import.meta.url).pathname;

async function certificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  args.push("-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert);
  const done = await new Deno.Command("openssl", { args, stderr: "null" }).output();
  if (!done.success) throw new Error("openssl failed");
  return { cert, key };
}

function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

async function start(root: string, mode: string, tls: { cert: string; key: string }) {
  const port = freePort();
  const argv = [Deno.execPath(), "run", "-A", "--no-prompt", "--unstable-net"];
  argv.push("--unstable-worker-options", `${root}/mod.ts`, "--host", "127.0.0.1");
  argv.push("--port", String(port), "--workers", String(workers), "--listen-mode", mode);
  argv.push("--ssl", "--ssl-cert-file", tls.cert, "--ssl-key-file", tls.key, app);
  const [cmd, ...args] = pinned(workers === 1 ? SERVER_CORE : BOTH_CORES, argv);
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening at port/.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`server ended: ${text}`);
    text += value;
  }
  reader.releaseLock();
  child.stderr.cancel().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { child, port };
}

async function wrk(port: number, close: boolean): Promise<number> {
  const argv = ["wrk", "-t1", "-c32", `-d${seconds}s`];
  if (close) argv.push("-H", "Connection: close");
  argv.push(`https://127.0.0.1:${port}/`);
  const [cmd, ...args] = pinned(CLIENT_CORE, argv);
  const output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  const text = new TextDecoder().decode(output.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  return rps;
}

const dir = await Deno.makeTempDir({ prefix: "starlight-tls-bench-" });
const tls = await certificate(dir);
const results = new Map<string, number[]>();
const record = (key: string, value: number) => results.set(key, [...results.get(key) ?? [], value]);
try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["shared", "reuseport"]) {
      for (const [label, root] of [["before", oldRoot], ["fronts", newRoot]]) {
        for (const close of [false, true]) {
          const { child, port } = await start(root, mode, tls);
          const cpu = cpuSeconds(child.pid);
          const rps = await wrk(port, close);
          const used = cpuSeconds(child.pid) - cpu;
          child.kill("SIGTERM");
          await child.status;
          const what = `${mode} ${label} ${close ? "new-connection" : "keep-alive"}`;
          record(`${what} req/s`, rps);
          record(`${what} server CPU µs/req`, (used / (rps * seconds)) * 1e6);
          console.error(`round ${round + 1}: ${what}: ${rps.toFixed(0)} req/s`);
        }
      }
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(`\n${workers} worker(s), ${rounds} rounds of ${seconds} s, wrk -t1 -c32`);
for (const [key, values] of results) {
  const low = Math.min(...values);
  const high = Math.max(...values);
  console.log(`${key.padEnd(48)} ${low.toFixed(0)}–${high.toFixed(0)}`);
}
