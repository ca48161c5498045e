/**
 * Validation and defaults for options from either source (the command line or `serve()`): the
 * listeners, the app URL, the permissions, every number, and paths made absolute.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { App } from "../app/contract.ts";
import { formatListenSpec, parseListenSpec } from "../listen/spec.ts";
import type { ListenSpec } from "../listen/spec.ts";
import type {
  ResolvedOptions,
  ResolvedPermissions,
  ServeOptions,
  WorkerPermissions,
} from "./types.ts";
import { OptionError } from "./error.ts";
import { TrustedProxies } from "../http/forwarded.ts";
import { envGet } from "../sandbox/query.ts";
import {
  type BooleanField,
  type ChoiceField,
  DEFAULT_ENV,
  DEFAULT_HOST,
  DEFAULT_IPV6_HOST,
  DEFAULT_SERVER_SOFTWARE,
  type NumberField,
  PATH_PERMISSIONS,
  PERMISSION_KINDS,
  type PermissionName,
  type Spec,
  type TextField,
} from "./spec.ts";
import { choice, choiceSpec, NUMBER_SPEC_BY_FIELD, show, SPEC_BY_FIELD } from "./table.ts";

const URL_APP = /^(https?|file|jsr|npm):/i;

/**
 * Validates options, applies defaults and makes every path absolute against `Deno.cwd()`.
 *
 * @throws {OptionError} naming the option (as its command-line flag) that is wrong.
 * @example
 * ```ts
 * import { resolveOptions } from "./resolve.ts";
 * const resolved = resolveOptions({ app: "app.ts", listen: [":8080", "/tmp/app.sock"] });
 * // resolved.listeners: [{ kind: "tcp", hostname: "0.0.0.0", port: 8080 },
 * //                      { kind: "unix", path: "/tmp/app.sock" }]
 * ```
 */
export function resolveOptions(options: ServeOptions): ResolvedOptions {
  let cwd: string | undefined;
  // Lazily, because Deno.cwd() needs read permission and absolute paths don't need it.
  const absolute = (path: string) => isAbsolute(path) ? path : resolve(cwd ??= Deno.cwd(), path);
  const path = (field: TextField) => {
    const value = text(options, field);
    return value === undefined ? undefined : absolute(value);
  };

  const workers = boolean(options, "parallel") ? parallelism(options) : number(options, "workers");
  const app = resolveApp(options.app, workers, absolute);

  const ipv6 = boolean(options, "ipv6");
  const defaultHost = ipv6 ? DEFAULT_IPV6_HOST : DEFAULT_HOST;
  const host = text(options, "host")?.replace(/^\[(.*)\]$/, "$1") ?? defaultHost;
  const port = number(options, "port");
  const listeners = resolveListeners(options, { host, port, defaultHost, absolute });

  const maxReqsPerChild = unlimitedIfZero(number(options, "maxReqsPerChild"));
  const min = optionalNumber(options, "minReqsPerChild");
  if (min !== undefined && min > maxReqsPerChild) {
    throw new OptionError(
      "--min-reqs-per-child",
      `--min-reqs-per-child: ${min} is above --max-reqs-per-child ${maxReqsPerChild}`,
    );
  }

  const ssl = boolean(options, "ssl");
  const sslKeyFile = path("sslKeyFile");
  const sslCertFile = path("sslCertFile");
  if (ssl && (sslKeyFile === undefined || sslCertFile === undefined)) {
    throw new OptionError("--ssl", "--ssl: needs both --ssl-key-file and --ssl-cert-file");
  }
  if (!ssl && (sslKeyFile !== undefined || sslCertFile !== undefined)) {
    const flag = sslKeyFile !== undefined ? "--ssl-key-file" : "--ssl-cert-file";
    throw new OptionError(flag, `${flag}: given without --ssl`);
  }

  const proxy = resolveProxies(options, listeners, ssl);
  const isolation = resolveIsolation(options, listeners, ssl);

  return {
    app,
    listeners,
    host,
    port,
    workers,
    listenMode: chosen(options, "listenMode"),
    engine: chosen(options, "engine"),
    isolation,
    ...proxy,
    compress: boolean(options, "compress"),
    shutdownDelay: number(options, "shutdownDelay"),
    timeout: number(options, "timeout"),
    headerTimeout: number(options, "headerTimeout"),
    keepaliveTimeout: number(options, "keepaliveTimeout"),
    maxKeepaliveReqs: unlimitedIfZero(number(options, "maxKeepaliveReqs")),
    maxRequestBody: unlimitedIfZero(number(options, "maxRequestBody")),
    maxWsMessage: unlimitedIfZero(number(options, "maxWsMessage")),
    maxReqsPerChild,
    // With no maximum there is no range to draw from (the original then recycled every worker).
    minReqsPerChild: maxReqsPerChild === Infinity ? undefined : min,
    spawnInterval: number(options, "spawnInterval"),
    workerTimeout: number(options, "workerTimeout"),
    maxWorkerMemory: unlimitedIfZero(number(options, "maxWorkerMemory")),
    mainProcessDelay: number(options, "mainProcessDelay"),
    gracefulTimeout: number(options, "gracefulTimeout"),
    reload: boolean(options, "reload"),
    serverSoftware: text(options, "serverSoftware") ?? DEFAULT_SERVER_SOFTWARE,
    env: text(options, "env") ?? DEFAULT_ENV,
    quiet: boolean(options, "quiet"),
    logFormat: chosen(options, "logFormat"),
    config: path("config"),
    errorLog: path("errorLog"),
    accessLog: path("accessLog"),
    ssl,
    sslKeyFile,
    sslCertFile,
    sslCaFile: path("sslCaFile"),
    sslClientCaFile: path("sslClientCaFile"),
    sslVerifyMode: number(options, "sslVerifyMode"),
    user: text(options, "user"),
    group: text(options, "group"),
    umask: optionalNumber(options, "umask"),
    daemonize: boolean(options, "daemonize"),
    pid: path("pid"),
    permissions: resolvePermissions(options.permissions, absolute),
  };
}

/**
 * The options about what stands in front: PROXY protocol, trusted forwarders, the health path
 * and the metrics address, each checked so a mistake is a start-up error naming the flag.
 */
function resolveProxies(options: ServeOptions, listeners: ListenSpec[], ssl: boolean) {
  const proxyProtocol = boolean(options, "proxyProtocol");
  if (proxyProtocol && ssl) {
    throw new OptionError(
      "--proxy-protocol",
      "--proxy-protocol: not with --ssl (the header would have to be read before the TLS handshake); terminate TLS at the proxy, or use --forwarded-allow-ips",
    );
  }
  const forwardedAllowIps = text(options, "forwardedAllowIps");
  if (forwardedAllowIps !== undefined) {
    try {
      TrustedProxies.parse(forwardedAllowIps);
    } catch (error) {
      throw new OptionError(
        "--forwarded-allow-ips",
        `--forwarded-allow-ips: ${(error as Error).message}`,
      );
    }
  }
  const healthPath = text(options, "healthPath");
  if (healthPath !== undefined && !/^\/[\x21-\x7e]*$/.test(healthPath)) {
    throw new OptionError(
      "--health-path",
      `--health-path: ${
        show(healthPath)
      } is not a path starting with / (printable ASCII, no query)`,
    );
  }
  if (healthPath?.includes("?")) {
    throw new OptionError("--health-path", "--health-path: a path, without a query string");
  }
  const metrics = text(options, "metricsListen");
  let metricsListen: ListenSpec | undefined;
  if (metrics !== undefined) {
    try {
      metricsListen = parseListenSpec(metrics, { defaultHost: "127.0.0.1" });
    } catch (error) {
      throw new OptionError("--metrics-listen", `--metrics-listen: ${(error as Error).message}`);
    }
    if (metricsListen.kind !== "tcp") {
      throw new OptionError("--metrics-listen", "--metrics-listen: a HOST:PORT, not a socket");
    }
    const clash = listeners.find((spec) =>
      spec.kind === "tcp" && metricsListen?.kind === "tcp" && spec.port !== 0 &&
      spec.port === metricsListen.port
    );
    if (clash !== undefined) {
      throw new OptionError(
        "--metrics-listen",
        `--metrics-listen: port ${metricsListen.port} is the app's (${
          formatListenSpec(clash)
        }); give it a port of its own`,
      );
    }
  }
  return { proxyProtocol, forwardedAllowIps, healthPath, metricsListen };
}

/**
 * `--isolation`, refused where process workers cannot work: in a compiled binary (there is no
 * `deno` to start them with), and on a TCP port below 1024 with `--user` (a worker process runs
 * as that user and cannot bind it; TLS ports are bound by the supervisor's fronts and work).
 */
function resolveIsolation(options: ServeOptions, listeners: ListenSpec[], ssl: boolean) {
  const isolation = chosen(options, "isolation");
  if (isolation !== "process" || number(options, "workers") === 0) return isolation;
  if (Deno.build.standalone) {
    throw new OptionError(
      "--isolation",
      "--isolation process: not in a compiled binary (workers are started with deno run); use --isolation thread",
    );
  }
  const low = listeners.find((spec) => spec.kind === "tcp" && spec.port > 0 && spec.port < 1024);
  if (low !== undefined && !ssl && text(options, "user") !== undefined) {
    throw new OptionError(
      "--isolation",
      `--isolation process: workers run as --user and cannot bind ${
        formatListenSpec(low)
      } (below 1024); use --isolation thread, a port from 1024 behind a proxy, or --ssl (the supervisor binds TLS ports)`,
    );
  }
  return isolation;
}

/** The choice `field` names, or its default (the first choice). */
function chosen<F extends ChoiceField>(options: ServeOptions, field: F): ResolvedOptions[F] {
  const spec = choiceSpec(field);
  const value = options[field];
  return (value === undefined
    ? spec.choices[0]
    : choice(`--${spec.names[0]}`, value, spec.choices)) as ResolvedOptions[F];
}

function resolveApp(
  app: ServeOptions["app"],
  workers: number,
  absolute: (path: string) => string,
): string | App {
  if (app === undefined || app === "") {
    throw new OptionError("--app", "no app given: starlight [options] app.ts");
  }
  if (app instanceof URL) return app.href;
  if (typeof app === "string") {
    return URL_APP.test(app) ? app : pathToFileURL(absolute(app)).href;
  }
  if (typeof app !== "function" && typeof app?.fetch !== "function") {
    throw new OptionError("--app", "--app: not a path, URL, handler or object with fetch()");
  }
  if (workers !== 0) {
    throw new OptionError(
      "--workers",
      `--workers: ${workers} workers cannot share an app given as a function or object; ` +
        "use workers: 0 or give the app's module URL",
    );
  }
  return app;
}

function resolveListeners(
  options: ServeOptions,
  { host, port, defaultHost, absolute }: {
    host: string;
    port: number;
    defaultHost: string;
    absolute: (path: string) => string;
  },
): ListenSpec[] {
  if (options.listen !== undefined && !Array.isArray(options.listen)) {
    throw new OptionError("--listen", "--listen: expected a list of addresses");
  }
  const listeners = (options.listen ?? []).map((value) => {
    if (typeof value !== "string") {
      throw new OptionError("--listen", `--listen: ${show(value)} is not an address`);
    }
    return parseListenSpec(value, { defaultHost });
  });
  const socket = text(options, "socket");
  if (socket === "@") {
    throw new OptionError("--socket", "--socket: an abstract socket needs a name after @");
  }
  if (socket !== undefined) {
    // Unlike --listen, any name is a path here: the option says it is a socket.
    listeners.push(
      socket.startsWith("@")
        ? { kind: "abstract", name: socket.slice(1) }
        : { kind: "unix", path: absolute(socket) },
    );
  }
  // As plackup: --host or --port next to --listen/--socket asks for one more listener.
  if (listeners.length === 0 || options.host !== undefined || options.port !== undefined) {
    listeners.push({ kind: "tcp", hostname: host, port });
  }
  const seen = new Set<string>();
  for (const listener of listeners) {
    const name = formatListenSpec(listener);
    if (seen.has(name)) throw new OptionError("--listen", `--listen: ${name} is given twice`);
    seen.add(name);
  }
  return listeners;
}

function resolvePermissions(
  permissions: WorkerPermissions | undefined,
  absolute: (path: string) => string,
): ResolvedPermissions {
  if (permissions !== undefined && (typeof permissions !== "object" || permissions === null)) {
    throw new OptionError("--allow-*", "permissions: expected an object");
  }
  for (const key of Object.keys(permissions ?? {})) {
    if (key !== "all" && !PERMISSION_KINDS.includes(key as PermissionName)) {
      throw new OptionError("--allow-*", `permissions: unknown permission '${key}'`);
    }
  }
  const all = permissions?.all ?? false;
  if (typeof all !== "boolean") {
    throw new OptionError("--allow-all", `--allow-all: ${show(all)} is not true or false`);
  }
  const grant = (name: PermissionName): boolean | string[] => {
    const flag = `--allow-${name}`;
    const value = permissions?.[name] ?? false;
    if (typeof value === "boolean") return value;
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item)) {
      throw new OptionError(flag, `${flag}: ${show(value)} is not true, false or a list`);
    }
    return PATH_PERMISSIONS.has(name) ? value.map(absolute) : [...value];
  };
  return {
    net: grant("net"),
    read: grant("read"),
    write: grant("write"),
    env: grant("env"),
    run: grant("run"),
    sys: grant("sys"),
    ffi: grant("ffi"),
    import: grant("import"),
    all,
  };
}

function number(options: ServeOptions, field: NumberField): number {
  const value = optionalNumber(options, field) ?? lookup(NUMBER_SPEC_BY_FIELD, field).fallback;
  if (value === undefined) throw new TypeError(`${field} has no default`);
  return value;
}

function optionalNumber(options: ServeOptions, field: NumberField): number | undefined {
  const spec = lookup(NUMBER_SPEC_BY_FIELD, field);
  const value = options[field];
  if (value !== undefined && (typeof value !== "number" || !spec.rule.accepts(value))) {
    const flag = flagOf(spec);
    throw new OptionError(flag, `${flag}: ${show(value)} is not ${spec.rule.expected}`);
  }
  return value;
}

function boolean(options: ServeOptions, field: BooleanField): boolean {
  const value = options[field];
  if (value === undefined || typeof value === "boolean") return value ?? false;
  const flag = flagOf(lookup(SPEC_BY_FIELD, field));
  throw new OptionError(flag, `${flag}: ${show(value)} is not true or false`);
}

function text(options: ServeOptions, field: TextField): string | undefined {
  const value = options[field];
  if (value === undefined || (typeof value === "string" && value !== "")) return value;
  const flag = flagOf(lookup(SPEC_BY_FIELD, field));
  throw new OptionError(flag, `${flag}: ${show(value)} is not a non-empty string`);
}

function lookup<T>(specs: ReadonlyMap<string, T>, field: keyof ServeOptions): T {
  const spec = specs.get(field);
  if (spec === undefined) throw new TypeError(`no option sets ${field}`);
  return spec;
}

function flagOf(spec: Spec): string {
  return `--${spec.names[0]}`;
}

/** What `deno serve --parallel` starts: `DENO_JOBS` workers, else one per CPU. */
function parallelism(options: ServeOptions): number {
  if (options.workers !== undefined) {
    throw new OptionError("--parallel", "--parallel: the worker count is given twice (--workers)");
  }
  const jobs = envGet("DENO_JOBS");
  if (jobs === undefined || jobs === "") return navigator.hardwareConcurrency;
  if (!/^[1-9]\d*$/.test(jobs)) {
    throw new OptionError(
      "--parallel",
      `--parallel: DENO_JOBS='${jobs}' is not a whole number above 0`,
    );
  }
  return Number(jobs);
}

function unlimitedIfZero(value: number): number {
  return value === 0 ? Infinity : value;
}
