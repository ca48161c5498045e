/**
 * The entry of a thread worker (a Web Worker): the transport side of a worker. It takes what it
 * needs from the global scope before anything else runs, locks the rest (`worker_guard.ts`),
 * and hands every message from the supervisor to the runtime (`worker_runtime.ts`), which loads
 * the app, serves and retires. Runs with the restricted permissions the supervisor chose.
 *
 * The app shares this isolate: it could otherwise swallow the supervisor's messages, capture the
 * TLS key by replacing `Deno.listenTls`, signal the server, or end the worker without the
 * supervisor knowing.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { guardWorker } from "./worker_guard.ts";
import { installDenoUpgradeBridge } from "../websocket/deno_upgrade.ts";
import { WorkerRuntime } from "./worker_runtime.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

const postToSupervisor = self.postMessage.bind(self);
const closeWorker = self.close.bind(self);
const memoryUsage = Deno.memoryUsage;

const runtime = new WorkerRuntime({
  post(message: FromWorker): void {
    try {
      postToSupervisor(message);
    } catch {
      // The supervisor has already dropped this worker.
    }
  },
  close: closeWorker,
}, () => memoryUsage().heapUsed);

guardWorker(self, (reason) => runtime.exiting(reason));
installDenoUpgradeBridge();

runtime.catchUncaught(self);
self.addEventListener("message", (event: MessageEvent<ToWorker>) => runtime.receive(event.data));
