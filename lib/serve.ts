/**
 * `serve()`: starts Starlight in this process — a supervisor with sandboxed workers, or with
 * `workers: 0` the engine itself in the main thread.
 *
 * @module
 */

import { AppError, loadApp, type LoadedApp, toLoadedApp } from "./app/load.ts";
import type { ServeHandlerInfo } from "./app/contract.ts";
import { appDenoFlags, findAppConfig } from "./app/config.ts";
import { describeAppError } from "./app/errors.ts";
import { callOnListen, servedAddresses, stopApp, stopReserve } from "./app/lifecycle.ts";
import "./http/node_reasons.ts";
import { reasonPhrases } from "./http/status.ts";
import { bannerLine, listenerUrl } from "./observe/banner.ts";
import { engineOptions, engineSettings } from "./engine/config.ts";
import { connectionsClosed, HttpServer, SHUTDOWN_GRACE } from "./engine/server.ts";
import { NativeServer } from "./engine/native/server.ts";
import { refuseNative } from "./engine/native/refusal.ts";
import { markNativeEngine } from "./engine/native/websocket.ts";
import { fallbackWarning, fastPaths } from "./deno/fast_paths.ts";
import { openInProcess, UnixRelay } from "./listen/unix_relay.ts";
import { TlsFronts } from "./listen/tls_fronts.ts";
import { formatListenSpec, type ListenSpec } from "./listen/spec.ts";
import {
  announceBanner,
  describeError,
  log,
  type LogRecord,
  setupLogging,
  writeAccess,
} from "./log.ts";
import {
  OptionError,
  type ResolvedOptions,
  resolveOptions,
  type ServeOptions,
} from "./options/mod.ts";
import { ProcessControl } from "./process/control.ts";
import { enableMigrateReq, type MigrateReq } from "./process/migrate_req.ts";
import { warnUnreadableAfterDrop } from "./process/privileges.ts";
import { configMismatch } from "./process/relaunch.ts";
import { secretWarnings } from "./sandbox/secrets.ts";
import { reloadOnChange } from "./process/reload.ts";
import { describeAppPermissions, workerPermissions } from "./sandbox/permissions.ts";
import { formatAccessLine } from "./observe/access_log.ts";
import { setRetireHook } from "./app/retire.ts";
import { Supervisor, WorkerStartError } from "./pool/supervisor.ts";
import { ThreadLauncher } from "./pool/transport.ts";
import { ProcessLauncher } from "./pool/process_launcher.ts";
import { readTls } from "./listen/tls_material.ts";
import { setDefaultMaxMessageSize } from "./websocket/upgrade.ts";
import { installDenoUpgradeBridge, withDenoUpgrade } from "./websocket/deno_upgrade.ts";
import { withTelemetry } from "./observe/otel.ts";
import { withCompression } from "./app/compress.ts";
import { withProxyProtocol } from "./listen/proxy_listener.ts";
import { type MetricsServer, serveMetrics } from "./observe/metrics_server.ts";
import type { ServerMetrics } from "./observe/metrics.ts";
import type { WorkerConfig } from "./pool/protocol.ts";
import type { AccessEntry } from "./engine/connection.ts";
import type { ServerTls, TlsMaterial } from "./listen/tls_material.ts";

/**
 * A running server.
 *
 * @example
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: "./app.ts", port: 8080 });
 * console.log(server.addresses);
 * await server.shutdown();
 * ```
 */
export interface Server {
  /** The addresses listened on, with port 0 resolved to the real port. */
  readonly addresses: ListenSpec[];
  /** Graceful shutdown; resolves when every connection is closed. A second call forces it. */
  shutdown(): Promise<void>;
  /** Graceful restart of every worker, loading the app afresh. */
  restart(): Promise<void>;
  /** One worker more. */
  addWorker(): void;
  /** One worker fewer (never below one). */
  removeWorker(): void;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * How `serve()` was called: an embedding program may take Starlight's log records itself.
 *
 * @example Starlight's log records into the program's own logger
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * await serve({ app: "./app.ts" }, { logSink: (record) => console.log(record.level, record.message) });
 * ```
 */
export interface ServeContext {
  /** Every server log record goes to this function instead of stderr or `errorLog`. */
  logSink?: (record: LogRecord) => void;
  /** Set by the CLI in the daemon it started: `daemonize` is refused anywhere else. */
  daemonized?: boolean;
}

/**
 * Starts the server in this process and resolves once it listens; rejects with a one-line
 * error when it cannot (an `OptionError` for a bad option, with the command line's message).
 * Options are the command line's, camelCased, with the same defaults.
 *
 * @example A module on four workers, stopped gracefully on SIGTERM
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: new URL("./app/load.ts", import.meta.url), workers: 4 });
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 *
 * @example A handler function in this thread (`workers: 0`), on a free port
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: () => new Response("hi"), workers: 0, port: 0 });
 * console.log(server.addresses); // [{ kind: "tcp", hostname: "0.0.0.0", port: 41234 }]
 * ```
 */
export async function serve(options: ServeOptions, context: ServeContext = {}): Promise<Server> {
  const resolved = resolveOptions(options);
  refuseNative(resolved);
  if (resolved.daemonize && !context.daemonized) {
    throw new OptionError(
      "--daemonize",
      "--daemonize: only the command line daemonizes; run an embedding program under a service manager",
    );
  }
  setupLogging({
    errorLog: resolved.errorLog,
    accessLog: resolved.accessLog,
    accessToStderr: resolved.env === "development",
    quiet: resolved.quiet,
    format: resolved.logFormat,
    sink: context.logSink,
  });
  warnAboutTheApp(resolved);
  // Before anything listens: an unknown --user/--group is an error, and the pid file exists.
  const control = ProcessControl.begin(resolved);
  let server: Server;
  try {
    // Privileges are dropped once everything is bound and before any app code is loaded, so
    // nothing the app does at load (a program started, a file read) runs as root. A failed drop
    // throws there, before the app exists.
    server = await start(resolved, () => control.afterListening());
  } catch (error) {
    await control.finish();
    throw error;
  }
  warnUnreadableAfterDrop(resolved, control.identity);
  const reloader = resolved.reload ? reloadOnChange(resolved, server) : undefined;
  const finished = server.finished.then(async () => {
    reloader?.close();
    await control.finish();
  });
  return { ...server, finished };
}

/**
 * What the operator should know before the app starts: a deno.json of the app's that does not
 * apply to this process, and secrets the app can read (see `sandbox/secrets.ts`).
 */
function warnAboutTheApp(resolved: ResolvedOptions): void {
  if (typeof resolved.app !== "string") return;
  const config = findAppConfig(resolved.app, resolved.config);
  const mismatch = configMismatch(config);
  if (mismatch !== undefined) {
    log.warning(
      "the app's Deno config does not apply: {mismatch}; the command line re-launches with it, " +
        "an embedding program must run deno with {flags}",
      { mismatch, flags: config.path === undefined ? "--no-config" : `--config ${config.path}` },
    );
  }
  if (config.lonePackageJson !== undefined) {
    log.warning(
      "{packageJson} does not apply: deno reads a package.json only beside the deno.json it runs " +
        "with; put a deno.json ({} will do) beside it",
      { packageJson: config.lonePackageJson },
    );
  }
  const workerModule = new URL("./pool/thread_worker.ts", import.meta.url).href;
  for (const warning of secretWarnings(resolved, workerModule)) {
    log.warning("{warning}", { warning });
  }
}

/** Opens the listeners and starts serving (in this thread or with workers); prints the banner. */
async function start(resolved: ResolvedOptions, beforeApp: () => void): Promise<Server> {
  const tls = await readTls(resolved);
  const server = resolved.workers === 0
    ? await serveInProcess(resolved, tls, beforeApp)
    : await serveWithWorkers(resolved, tls, beforeApp);
  announceBanner([
    ...server.addresses.map((spec) => ({
      message: bannerLine(resolved.serverSoftware, spec, tls !== undefined),
      fields: { url: listenerUrl(spec, tls !== undefined) },
    })),
    { message: describeAppPermissions(resolved, server.addresses) },
  ]);
  return server;
}

async function serveInProcess(
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
  const metrics = startMetrics(options, () => ({
    uptime: Math.round((Date.now() - startedAt) / 1000),
    restarts: generation,
    crashes: 0,
    requests: http.requests,
    responses: http.responses,
    workers: [{
      id: 0,
      state: http.retiring ? "retiring" : "serving",
      requests: http.requests,
      responses: http.responses,
      connections: http.connections,
      uptime: Math.round((Date.now() - startedAt) / 1000),
      heap: Deno.memoryUsage().heapUsed,
    }],
  }));
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
        const cutAt = until - stopReserve(app.hooks, until);
        const deadline = setTimeout(() => http.abort(), cutAt - Date.now());
        http.stopAccepting();
        // As a worker does: a request already on its way on an idle connection is answered.
        http.retire();
        await connectionsClosed(http, SHUTDOWN_GRACE);
        await http.drain();
        clearTimeout(deadline);
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

async function serveWithWorkers(
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
  const workerUrl = new URL("./pool/thread_worker.ts", import.meta.url);
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
 * Starts `--metrics-listen`, if given, after the app's listeners: an address in use is a
 * warning, not the end of a server that otherwise serves.
 */
function startMetrics(
  options: ResolvedOptions,
  snapshot: () => ServerMetrics,
): MetricsServer | undefined {
  const spec = options.metricsListen;
  if (spec === undefined) return undefined;
  try {
    const server = serveMetrics(spec, snapshot);
    const { hostname, port } = server.addr;
    log.info("metrics at http://{host}:{port}/metrics and /status", {
      host: hostname.includes(":") ? `[${hostname}]` : hostname,
      port,
    });
    return server;
  } catch (error) {
    log.warning("--metrics-listen {address}: {reason}; serving without metrics", {
      address: formatListenSpec(spec),
      reason: describeError(error),
    });
    return undefined;
  }
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
    module: new URL("./pool/process_worker.ts", import.meta.url),
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
