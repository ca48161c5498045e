/**
 * `serve()`: starts Starlight in this process — a supervisor with sandboxed workers, or with
 * `workers: 0` the engine itself in the main thread.
 *
 * @module
 */

import { AppError, loadApp, toHandler } from "./app/load.ts";
import "./http/node_reasons.ts";
import { reasonPhrases } from "./http/status.ts";
import { bannerLine } from "./observe/banner.ts";
import type { Handler } from "./app/contract.ts";
import { DEFAULT_HEAD_LIMITS } from "./http/head.ts";
import { HttpServer } from "./engine/server.ts";
import { openInProcess, UnixRelay } from "./listen/unix_relay.ts";
import { TlsFronts } from "./listen/tls_fronts.ts";
import type { ListenSpec } from "./listen/spec.ts";
import { announce, log, setupLogging, writeAccess } from "./log.ts";
import {
  OptionError,
  type ResolvedOptions,
  resolveOptions,
  type ServeOptions,
} from "./options/mod.ts";
import { ProcessControl } from "./process/control.ts";
import { warnUnreadableAfterDrop } from "./process/privileges.ts";
import { reloadOnChange } from "./process/reload.ts";
import { describeAppPermissions, workerPermissions } from "./sandbox/permissions.ts";
import { formatAccessLine } from "./observe/access_log.ts";
import { setRetireHook } from "./app/retire.ts";
import { Supervisor, WorkerStartError } from "./pool/supervisor.ts";
import { readTls } from "./listen/tls_material.ts";
import { setDefaultMaxMessageSize } from "./websocket/upgrade.ts";
import type { WorkerConfig } from "./pool/protocol.ts";
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
 * How `serve()` was called: the CLI owns logging; an embedding program may have its own.
 *
 * @example Starlight's log configuration even where the program configured LogTape
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * await serve({ app: "./app.ts", errorLog: "/var/log/app.log" }, { ownsLogging: true });
 * ```
 */
export interface ServeContext {
  /** Configure logging even if the program already configured LogTape. */
  ownsLogging?: boolean;
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
  if (resolved.daemonize && !context.daemonized) {
    throw new OptionError(
      "--daemonize",
      "--daemonize: only the command line daemonizes; run an embedding program under a service manager",
    );
  }
  await setupLogging({
    errorLog: resolved.errorLog,
    accessLog: resolved.accessLog,
    accessToStderr: resolved.env === "development",
    quiet: resolved.quiet,
  }, !context.ownsLogging);
  // Before anything listens: an unknown --user/--group is an error, and the pid file exists.
  const control = ProcessControl.begin(resolved);
  let server: Server | undefined;
  try {
    server = await start(resolved);
    control.afterListening();
  } catch (error) {
    if (server !== undefined) {
      // Listening, but the privilege drop failed: never serve with the wrong identity.
      server.shutdown();
      server.shutdown();
      await server.finished;
    }
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

/** Opens the listeners and starts serving (in this thread or with workers); prints the banner. */
async function start(resolved: ResolvedOptions): Promise<Server> {
  const tls = await readTls(resolved);
  const server = resolved.workers === 0
    ? await serveInProcess(resolved, tls)
    : await serveWithWorkers(resolved, tls);
  for (const spec of server.addresses) {
    announce(bannerLine(resolved.serverSoftware, spec, tls !== undefined));
  }
  announce(describeAppPermissions(resolved, server.addresses));
  return server;
}

function engineTimes(options: ResolvedOptions) {
  return {
    timeout: options.timeout * 1000,
    headerTimeout: options.headerTimeout * 1000,
    keepaliveTimeout: options.keepaliveTimeout * 1000,
    maxKeepaliveRequests: options.maxKeepaliveReqs,
    maxRequestBody: options.maxRequestBody,
    serverSoftware: options.serverSoftware,
    development: options.env === "development",
  };
}

async function serveInProcess(
  options: ResolvedOptions,
  tls: TlsMaterial | undefined,
): Promise<Server> {
  const appUrl = typeof options.app === "string" ? options.app : undefined;
  let handler: Handler = appUrl === undefined
    ? toHandler(options.app, "app")
    : await loadApp(appUrl);
  let generation = 0;
  const finished = Promise.withResolvers<void>();
  const http = new HttpServer({
    handler: (request, info) => handler(request, info),
    limits: DEFAULT_HEAD_LIMITS,
    ...engineTimes(options),
  }, {
    warn: (message, error) =>
      log.warning("{message}{detail}", {
        message,
        detail: error === undefined ? "" : `: ${describe(error)}`,
      }),
    access: options.accessLog !== undefined || options.env === "development"
      ? (entry) => writeAccess(formatAccessLine(entry))
      : undefined,
  });
  setRetireHook(() => false);
  if (Number.isFinite(options.maxWsMessage)) setDefaultMaxMessageSize(options.maxWsMessage);
  const opened = await openInProcess(options.listeners, tls);
  const addresses = opened.addresses;
  opened.listeners.forEach((listener, i) => http.serve(listener, opened.schemes[i]));
  let stopping: Promise<void> | undefined;
  return {
    addresses,
    finished: finished.promise,
    shutdown() {
      if (stopping !== undefined) {
        http.abort();
        return stopping;
      }
      const deadline = setTimeout(() => http.abort(), options.gracefulTimeout * 1000);
      stopping = http.drain().then(() => {
        clearTimeout(deadline);
        opened.close();
        finished.resolve();
      });
      return stopping;
    },
    async restart() {
      if (appUrl === undefined) return;
      // A query string makes the module loader import the app afresh.
      const url = new URL(appUrl);
      url.searchParams.set("starlight-generation", String(++generation));
      handler = await loadApp(url.href);
      log.info("app reloaded");
    },
    addWorker() {},
    removeWorker() {},
  };
}

async function serveWithWorkers(
  options: ResolvedOptions,
  tls: ServerTls | undefined,
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
  const workerUrl = new URL("./pool/thread_worker.ts", import.meta.url);
  const worker: Omit<WorkerConfig, "id" | "maxRequests"> = {
    app,
    listeners: options.listeners,
    listenMode: options.listenMode,
    ...engineTimes(options),
    maxKeepaliveRequests: options.maxKeepaliveReqs,
    maxRequestBody: options.maxRequestBody,
    maxWsMessage: options.maxWsMessage,
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
    worker,
    workerUrl,
    permissions: (listeners) =>
      workerPermissions(options.permissions, listeners, app, workerUrl.href),
  });
  let addresses: ListenSpec[];
  try {
    addresses = relay.start(await supervisor.start());
  } catch (error) {
    relay.close();
    fronts.close();
    if (error instanceof WorkerStartError) throw new AppError(error.message);
    throw error;
  }
  try {
    addresses = await fronts.start(addresses);
  } catch (error) {
    fronts.stopAccepting();
    relay.stopAccepting();
    await supervisor.shutdown();
    await Promise.all([relay.close(), fronts.close()]);
    throw error;
  }
  if (options.permissions.all) {
    log.warning("--allow-all: the app runs with every permission the server has (no sandbox)");
  }
  return {
    addresses,
    finished: supervisor.finished.then(async () => {
      await Promise.all([relay.close(), fronts.close()]);
    }),
    shutdown: () => {
      relay.stopAccepting();
      fronts.stopAccepting();
      return supervisor.shutdown();
    },
    restart: () => supervisor.restart(),
    addWorker: () => supervisor.grow(),
    removeWorker: () => supervisor.shrink(),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
