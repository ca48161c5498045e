/**
 * The entry of a process worker (`--isolation process`): the transport side, as
 * `thread_worker.ts` is for a thread. Messages from the supervisor arrive as lines of JSON on
 * stdin; its own go to stdout as marked lines (`frames.ts`). Runs with the app's permissions
 * as `deno` flags; its arguments are its worker number and the supervisor's pid, which the app
 * may not signal.
 *
 * @module
 */

import { guardWorker } from "./worker_guard.ts";
import { installDenoUpgradeBridge } from "../websocket/deno_upgrade.ts";
import { WorkerRuntime } from "./worker_runtime.ts";
import { encodeFrame, LineSplitter, readLine } from "./frames.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

const [id, supervisor] = Deno.args.map(Number);
const stdout = Deno.stdout;
const exit = Deno.exit;
const memoryUsage = Deno.memoryUsage;
const encoder = new TextEncoder();
// The app sees the same name a thread worker has.
Object.defineProperty(globalThis, "name", { value: `starlight-worker-${id}`, configurable: true });

const runtime = new WorkerRuntime({
  post(message: FromWorker): void {
    const bytes = encoder.encode(encodeFrame(message, true));
    try {
      for (let written = 0; written < bytes.length;) {
        written += stdout.writeSync(bytes.subarray(written));
      }
    } catch {
      // The supervisor is gone; its stdin's end follows.
    }
  },
  close: () => exit(0),
}, () => memoryUsage().heapUsed);

guardWorker(globalThis, (reason) => runtime.exiting(reason), supervisor);
installDenoUpgradeBridge();

runtime.catchUncaught(globalThis);

const lines = new LineSplitter();
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  for (const line of lines.push(chunk)) {
    const read = readLine(line, false);
    if ("frame" in read) runtime.receive(read.frame as ToWorker);
  }
}
// stdin ended: the supervisor is gone (even killed), and with it whoever would retire this one.
exit(0);
