/**
 * Serving through the pool: the supervisor with sandboxed workers (threads or processes), the
 * UNIX-socket relay and the TLS fronts in front of them, and `--metrics-listen`.
 *
 * @module
 */

import { AppError } from "../app/load.ts";
import { appDenoFlags, findAppConfig } from "../app/config.ts";
import { engineSettings } from "../engine/config.ts";
import { reasonPhrases } from "../http/status.ts";
import { UnixRelay } from "../listen/unix_relay.ts";
import { TlsFronts } from "../listen/tls_fronts.ts";
import type { ListenSpec } from "../listen/spec.ts";
import type { ServerTls } from "../listen/tls_material.ts";
import { log } from "../log.ts";
import type { ResolvedOptions } from "../options/mod.ts";
import { enableMigrateReq, type MigrateReq } from "../process/migrate_req.ts";
import { workerPermissions } from "../sandbox/permissions.ts";
import { Supervisor, WorkerStartError } from "../pool/supervisor.ts";
import { ThreadLauncher } from "../pool/transport.ts";
import { ProcessLauncher } from "../pool/process_launcher.ts";
import type { WorkerConfig } from "../pool/protocol.ts";
import { startMetrics } from "./metrics.ts";
import type { Server } from "./server.ts";

/**
 * Serves `options.app` through a pool of workers; `beforeApp` runs once every socket is bound
 * and before any worker loads the app (the privilege drop).
 *
 * @example
 * ```ts ignore
 * const server = await serveWithWorkers(resolveOptions({ app: "./app.ts", workers: 2 }), undefined, () => {});
 * ```
 */
export async function serveWithWorkers(
  options: ResolvedOptions,
  tls: ServerTls | undefined,
  beforeApp: () => void,
): Promise<Server> {
  if (typeof options.app !== "string") {
    throw new AppError(
      "a handler function can only be served with workers: 0; give workers a module path or URL",
    );
  }
  if (typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new Error(
      'workers need --unstable-worker-options and --unstable-net (or "unstable": ["worker-options", "net"] in deno.json); or use workers: 0',
    );
  }
  const app = options.app;
  const processes = options.isolation === "process";
  if (processes || options.listenMode === "reuseport") announceMigrateReq(enableMigrateReq());
  const workerUrl = new URL("../pool/thread_worker.ts", import.meta.url);
  const worker: Omit<WorkerConfig, "id" | "maxRequests" | "balance"> = {
    app,
    listeners: options.listeners,
    listenMode: processes ? "process" : options.listenMode,
    engine: options.engine,
    ...engineSettings(options),
    maxWsMessage: options.maxWsMessage,
    proxyProtocol: options.proxyProtocol,
    compress: options.compress,
    reasonPhrases: reasonPhrases(),
    accessLog: options.accessLog !== undefined || options.env === "development",
  };
  // Before any worker exists: a permission this process cannot pass on to the app, or any
  // chance of a permission prompt, is refused in one line naming it.
  workerPermissions(options.permissions, options.listeners, app, workerUrl.href);
  // UNIX sockets are bound here, once, and relayed to the workers' loopback listener; TLS is
  // terminated here too, by front threads that run no app code, and relayed the same way.
  const relay = await UnixRelay.open(options.listeners, options.timeout * 1000);
  let fronts: TlsFronts;
  try {
    fronts = TlsFronts.open(relay.workerListeners, tls, {
      listenMode: options.listenMode,
      fronts: Math.min(options.workers, navigator.hardwareConcurrency || 1),
      writeTimeout: options.timeout * 1000,
    });
  } catch (error) {
    relay.close();
    throw error;
  }
  worker.listeners = fronts.workerListeners;
  const supervisor = new Supervisor({
    workers: options.workers,
    spawnInterval: options.spawnInterval * 1000,
    gracefulTimeout: options.gracefulTimeout * 1000,
    maxReqsPerChild: options.maxReqsPerChild,
    minReqsPerChild: options.minReqsPerChild,
    workerTimeout: options.workerTimeout * 1000,
    maxWorkerMemory: options.maxWorkerMemory,
    shutdownDelay: options.shutdownDelay * 1000,
    worker,
    launcher: processes ? processLauncher(options, app) : new ThreadLauncher(workerUrl),
    permissions: (listeners) =>
      workerPermissions(options.permissions, listeners, app, workerUrl.href),
    // Once the supervisor holds its sockets: the relay and the TLS fronts bind theirs, then
    // privileges are dropped, and only then does a worker load the app.
    beforeWorkers: async (anchored) => {
      addresses = await fronts.start(relay.start(anchored));
      beforeApp();
    },
    // Past --shutdown-delay: the relay and the fronts take no new connection either.
    draining: () => {
      relay.stopAccepting();
      fronts.stopAccepting();
    },
  });
  let addresses: ListenSpec[] = [];
  try {
    await supervisor.start();
  } catch (error) {
    fronts.stopAccepting();
    relay.stopAccepting();
    await Promise.all([relay.close(), fronts.close()]);
    if (error instanceof WorkerStartError) throw new AppError(error.message);
    throw error;
  }
  if (options.permissions.all) {
    log.warning("--allow-all: the app runs with every permission the server has (no sandbox)");
  }
  const metrics = startMetrics(options, () => supervisor.metrics());
  return {
    addresses,
    finished: supervisor.finished.then(async () => {
      await Promise.all([relay.close(), fronts.close(), metrics?.close()]);
    }),
    shutdown: () => supervisor.shutdown(),
    restart: () => supervisor.restart(),
    addWorker: () => supervisor.grow(),
    removeWorker: () => supervisor.shrink(),
  };
}

/**
 * The launcher of process workers: each runs `pool/process_worker.ts` with the app's Deno
 * config (its import map and `unstable` list apply as they do to the CLI), and a V8 heap limit
 * at twice
 * `--max-worker-memory` (the worker is retired gracefully at the limit itself; a sudden
 * allocation past twice ends only its own process).
 */
function processLauncher(options: ResolvedOptions, app: string): ProcessLauncher {
  const heap = options.maxWorkerMemory;
  const v8 = Number.isFinite(heap)
    ? [`--v8-flags=--max-old-space-size=${Math.max(64, Math.ceil((2 * heap) / (1024 * 1024)))}`]
    : [];
  return new ProcessLauncher({
    module: new URL("../pool/process_worker.ts", import.meta.url),
    denoFlags: [
      ...appDenoFlags(findAppConfig(app, options.config)),
      "--unstable-net",
      ...v8,
    ],
  });
}

/** Says what became of `net.ipv4.tcp_migrate_req`, where workers bind sockets of their own. */
function announceMigrateReq(result: MigrateReq): void {
  if (result.state === "enabled") log.info("set net.ipv4.tcp_migrate_req=1 (it was 0)");
  if (result.state === "unavailable") {
    log.warning(
      "{reason}: connections queued on a worker that exits are reset rather than moved to " +
        "another; run `sysctl -w net.ipv4.tcp_migrate_req=1` as root to avoid it",
      { reason: result.reason },
    );
  }
}
