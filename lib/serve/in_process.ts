/**
 * `workers: 0`: the engine in this thread, with the app loaded here. No sandbox and no
 * supervisor; a restart loads the app afresh in place, and shutdown runs the same sequence a
 * worker does (health path 503 during the delay, stop accepting, a short grace, drain).
 *
 * @module
 */

import { loadApp, type LoadedApp, toLoadedApp } from "../app/load.ts";
import type { ServeHandlerInfo } from "../app/contract.ts";
import { describeAppError } from "../app/errors.ts";
import { callOnListen, servedAddresses, stopApp, stopReserve } from "../app/lifecycle.ts";
import { setRetireHook } from "../app/retire.ts";
import { withCompression } from "../app/compress.ts";
import { engineOptions, engineSettings } from "../engine/config.ts";
import { HttpServer } from "../engine/server.ts";
import { gracefulStop, SHUTDOWN_GRACE } from "../engine/graceful_stop.ts";
import { NativeServer } from "../engine/native/server.ts";
import { markNativeEngine } from "../engine/native/websocket.ts";
import type { AccessEntry } from "../engine/connection.ts";
import { fallbackWarning, fastPaths } from "../deno/fast_paths.ts";
import { openInProcess } from "../listen/unix_relay.ts";
import { withProxyProtocol } from "../listen/proxy_listener.ts";
import type { TlsMaterial } from "../listen/tls_material.ts";
import { log, writeAccess } from "../log.ts";
import type { ResolvedOptions } from "../options/mod.ts";
import { formatAccessLine } from "../observe/access_log.ts";
import { withTelemetry } from "../observe/otel.ts";
import { setDefaultMaxMessageSize } from "../websocket/upgrade.ts";
import { installDenoUpgradeBridge, withDenoUpgrade } from "../websocket/deno_upgrade.ts";
import { startMetrics } from "./metrics.ts";
import { PoolTally } from "../observe/tally.ts";
import type { Server } from "./server.ts";

/**
 * Serves `options.app` in this thread on `options.listeners`; `beforeApp` runs once they are
 * bound and before the app loads (the privilege drop).
 *
 * @example
 * ```ts ignore
 * const server = await serveInProcess(resolveOptions({ app: handler, workers: 0 }), undefined, () => {});
 * ```
 */
export async function serveInProcess(
  options: ResolvedOptions,
  tls: TlsMaterial | undefined,
  beforeApp: () => void,
): Promise<Server> {
  const opened = await openInProcess(options.listeners, tls);
  const appUrl = typeof options.app === "string" ? options.app : undefined;
  let app: LoadedApp;
  try {
    beforeApp();
    app = appUrl === undefined ? toLoadedApp(options.app, "app") : await loadApp(appUrl);
  } catch (error) {
    opened.close();
    throw error;
  }
  let generation = 0;
  const report = (message: string, error?: unknown) =>
    log.warning("{message}{detail}", {
      message,
      detail: error === undefined ? "" : `: ${describeAppError(error)}`,
    });
  const finished = Promise.withResolvers<void>();
  const native = options.engine === "native";
  // As in a worker: Deno's engine has its own telemetry and WebSocket upgrade.
  if (!native) installDenoUpgradeBridge();
  const current = (request: Request, info: ServeHandlerInfo) => app.handler(request, info);
  const served = options.compress ? withCompression(current) : current;
  const engine = engineOptions(
    engineSettings(options),
    native ? served : withTelemetry(withDenoUpgrade(served)),
  );
  const hooks = {
    warn: report,
    access: options.accessLog !== undefined || options.env === "development"
      ? (entry: AccessEntry) => writeAccess(formatAccessLine(entry))
      : undefined,
  };
  if (options.engine === "native") markNativeEngine();
  const http = options.engine === "native"
    ? new NativeServer(engine, hooks)
    : new HttpServer(engine, hooks);
  const fallback = fallbackWarning(fastPaths());
  if (fallback !== undefined) log.warning(fallback);
  setRetireHook(() => false);
  if (Number.isFinite(options.maxWsMessage)) setDefaultMaxMessageSize(options.maxWsMessage);
  const addresses = opened.addresses;
  try {
    callOnListen(app.hooks, servedAddresses(addresses), app.where);
  } catch (error) {
    opened.close();
    throw error;
  }
  opened.listeners.forEach((listener, i) =>
    http.serve(
      options.proxyProtocol && addresses[i].kind === "tcp"
        ? withProxyProtocol(listener, options.headerTimeout * 1000, report)
        : listener,
      opened.schemes[i],
    )
  );
  const startedAt = Date.now();
  // One worker, this thread, that never goes: an app reload counts as a restart.
  const tally = new PoolTally(startedAt, 0);
  const metrics = startMetrics(options, () =>
    tally.metrics(Date.now(), [{
      id: 0,
      state: http.retiring ? "retiring" : "serving",
      spawnedAt: startedAt,
      requests: http.requests,
      responses: http.responses,
      connections: http.connections,
      heap: Deno.memoryUsage().heapUsed,
    }]));
  let stopping: Promise<void> | undefined;
  // --shutdown-delay: the health path says 503 while everything else is served as usual.
  const delayed = Promise.withResolvers<void>();
  let delayTimer: ReturnType<typeof setTimeout> | undefined;
  return {
    addresses,
    finished: finished.promise,
    shutdown() {
      if (stopping !== undefined) {
        // A second signal: no more waiting, and whatever is left is cut.
        clearTimeout(delayTimer);
        delayed.resolve();
        http.abort();
        return stopping;
      }
      http.markUnhealthy();
      delayTimer = setTimeout(delayed.resolve, options.shutdownDelay * 1000);
      stopping = delayed.promise.then(async () => {
        const until = Date.now() + options.gracefulTimeout * 1000;
        // As a worker does: a request already on its way on an idle connection is answered.
        await gracefulStop(http, {
          cutAfter: until - stopReserve(app.hooks, until) - Date.now(),
          grace: SHUTDOWN_GRACE,
        });
        opened.close();
        await metrics?.close();
        // In this thread `unload` fires when the process ends, as in any Deno program.
        await stopApp(app.hooks, "shutdown", until, false, report);
        finished.resolve();
      });
      return stopping;
    },
    async restart() {
      if (appUrl === undefined) return;
      // A query string makes the module loader import the app afresh.
      const url = new URL(appUrl);
      url.searchParams.set("starlight-generation", String(++generation));
      tally.spawned();
      const next = await loadApp(url.href);
      callOnListen(next.hooks, servedAddresses(addresses), next.where);
      const previous = app;
      app = next;
      log.info("app reloaded");
      await stopApp(
        previous.hooks,
        "recycle",
        Date.now() + options.gracefulTimeout * 1000,
        false,
        report,
      );
    },
    addWorker() {},
    removeWorker() {},
  };
}
