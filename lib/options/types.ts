/**
 * The option types: what `serve()` takes and what resolving it gives. A leaf: the option table,
 * the argv parser and the resolver import it, never the other way.
 *
 * @module
 */

import type { App } from "../app/contract.ts";
import type { ListenSpec } from "../listen/spec.ts";

/**
 * What the app's workers may do, in Deno's own permission names. `true` allows everything of
 * that kind; a list allows only those hosts, paths or names.
 *
 * @example The command line's `--allow-read=./data --allow-env=DATABASE_URL`
 * ```ts
 * import type { WorkerPermissions } from "@x/starlight";
 * const permissions: WorkerPermissions = { read: ["./data"], env: ["DATABASE_URL"] };
 * ```
 */
export interface WorkerPermissions {
  /** `--allow-net`: hosts (`host` or `host:port`) the app may connect to or listen on. */
  net?: boolean | string[];
  /** `--allow-read`: paths the app may read. */
  read?: boolean | string[];
  /** `--allow-write`: paths the app may write. */
  write?: boolean | string[];
  /** `--allow-env`: environment variables the app may read. */
  env?: boolean | string[];
  /** `--allow-run`: programs the app may run. */
  run?: boolean | string[];
  /** `--allow-sys`: system information APIs the app may call. */
  sys?: boolean | string[];
  /** `--allow-ffi`: native libraries the app may load. */
  ffi?: boolean | string[];
  /** `--allow-import`: hosts the app may import code from. */
  import?: boolean | string[];
  /** `-A`/`--allow-all`: no sandbox at all. */
  all?: boolean;
}

/**
 * {@linkcode WorkerPermissions} with every kind decided; relative paths made absolute.
 *
 * @example
 * ```ts
 * import type { ResolvedPermissions } from "@x/starlight";
 * const sandboxed = (permissions: ResolvedPermissions): boolean =>
 *   !permissions.all && permissions.run === false && permissions.ffi === false;
 * ```
 */
export interface ResolvedPermissions {
  /** Hosts the app may reach, or all (`true`), or none (`false`). */
  net: boolean | string[];
  /** Absolute paths the app may read, or all, or none. */
  read: boolean | string[];
  /** Absolute paths the app may write, or all, or none. */
  write: boolean | string[];
  /** Environment variables the app may read, or all, or none. */
  env: boolean | string[];
  /** Programs the app may run, or all, or none. */
  run: boolean | string[];
  /** System information APIs the app may call, or all, or none. */
  sys: boolean | string[];
  /** Absolute paths of native libraries the app may load, or all, or none. */
  ffi: boolean | string[];
  /** Hosts the app may import code from, or all, or none. */
  import: boolean | string[];
  /** Whether the sandbox is off entirely. */
  all: boolean;
}

/**
 * How several workers share a TCP port: `"reuseport"` gives each worker its own socket and lets
 * the kernel balance connections; `"shared"` has all workers accept from one queue.
 *
 * @example The command line's `--listen-mode reuseport`
 * ```ts
 * import type { ListenMode, ServeOptions } from "@x/starlight";
 * const listenMode: ListenMode = "reuseport";
 * const options: ServeOptions = { app: "./app.ts", workers: 4, listenMode };
 * ```
 */
export type ListenMode = "reuseport" | "shared";

/**
 * Which HTTP engine serves the connections a worker accepts: `"ts"`, Starlight's own (every
 * option and guarantee), or `"native"`, Deno's own (the one behind `Deno.serve`: HTTP/2 with
 * prior knowledge, Deno's telemetry, `Deno.upgradeWebSocket`; the options it cannot honour are
 * listed in docs/engines.md).
 *
 * @example The command line's `--engine native`
 * ```ts
 * import type { Engine, ServeOptions } from "@x/starlight";
 * const engine: Engine = "native";
 * const options: ServeOptions = { app: "./app.ts", engine };
 * ```
 */
export type Engine = "ts" | "native";

/**
 * What a worker is: a Web Worker thread in the server's process (Thrall's model), or a
 * `deno` process of its own (Starlight's prefork model), which can be killed when stuck and
 * dies alone when it exhausts its heap.
 *
 * @example The command line's `--isolation process`
 * ```ts
 * import type { Isolation, ServeOptions } from "@x/starlight";
 * const isolation: Isolation = "process";
 * const options: ServeOptions = { app: "./app.ts", isolation };
 * ```
 */
export type Isolation = "thread" | "process";

/**
 * How the server's log lines look: `"text"` (ASCII, one line per event) or `"json"` (one JSON
 * object per line, for log shippers).
 *
 * @example The command line's `--log-format json`
 * ```ts
 * import type { LogFormat, ServeOptions } from "@x/starlight";
 * const logFormat: LogFormat = "json";
 * const options: ServeOptions = { app: "./app.ts", logFormat };
 * ```
 */
export type LogFormat = "text" | "json";

/**
 * Options of the embedding API. Every field is optional; {@linkcode resolveOptions} applies
 * the defaults. Times are in seconds and may be fractional; sizes are in bytes.
 *
 * @example Serving a module with four workers
 * ```ts
 * import type { ServeOptions } from "@x/starlight";
 * const options: ServeOptions = {
 *   app: new URL("../app/load.ts", import.meta.url),
 *   port: 8080,
 *   workers: 4,
 *   permissions: { env: ["DATABASE_URL"] },
 * };
 * ```
 */
export interface ServeOptions {
  /**
   * The app: a module path or URL whose default export is a handler, or (with `workers: 0`
   * only, since workers import the app by URL) the handler itself.
   */
  app?: string | URL | App;
  /** Address to listen on (default `"0.0.0.0"`, or `"::"` with `ipv6`). */
  host?: string;
  /** TCP port, 0-65535 (default 5000). */
  port?: number;
  /** Addresses to listen on: `HOST:PORT`, `:PORT`, `[IPv6]:PORT`, a socket path or `@name`. */
  listen?: string[];
  /** A UNIX socket path to listen on as well, or `@name` for an abstract socket. */
  socket?: string;
  /** Listen on `"::"` instead of `"0.0.0.0"` by default (default `false`). */
  ipv6?: boolean;
  /** Worker count; 0 serves in the main thread (default: the number of CPUs). */
  workers?: number;
  /**
   * As `deno serve --parallel`: `DENO_JOBS` workers, else one per CPU (default `false`). Not
   * together with `workers`.
   */
  parallel?: boolean;
  /** How workers share a TCP port (default {@linkcode DEFAULT_LISTEN_MODE}). */
  listenMode?: ListenMode;
  /** The HTTP engine (default `"ts"`). */
  engine?: Engine;
  /** Workers as threads or as processes (default `"thread"`). */
  isolation?: Isolation;
  /** Every TCP connection starts with a PROXY protocol header, v1 or v2 (default `false`). */
  proxyProtocol?: boolean;
  /**
   * Peers whose `Forwarded` and `X-Forwarded-For`/`-Proto` headers are trusted: `*`, `unix`,
   * addresses or CIDR ranges, comma separated (default: none).
   */
  forwardedAllowIps?: string;
  /** A path Starlight answers itself: 200 while serving, 503 while draining (default: none). */
  healthPath?: string;
  /** `HOST:PORT` for `/metrics` (Prometheus text) and `/status` (JSON) (default: none). */
  metricsListen?: string;
  /** Compress responses the client accepts compressed, as `Deno.serve` can (default `false`). */
  compress?: boolean;
  /**
   * Seconds after TERM during which everything is served as usual but the health path answers
   * 503, so that balancers stop sending first (default 0).
   */
  shutdownDelay?: number;
  /** Seconds a connection may be silent while a request or response is in flight (default 300). */
  timeout?: number;
  /** Seconds allowed to receive a whole request head, however slowly it arrives (default 30). */
  headerTimeout?: number;
  /** Seconds to wait for the next request on an idle keep-alive connection (default 5). */
  keepaliveTimeout?: number;
  /** Requests per connection; 1 turns keep-alive off, 0 means no limit (default 1000). */
  maxKeepaliveReqs?: number;
  /** Largest request body in bytes; 0 means no limit (default 64 MiB). */
  maxRequestBody?: number;
  /** Largest WebSocket message in bytes; 0 means no limit (default 64 MiB). */
  maxWsMessage?: number;
  /** Requests a worker serves before it is replaced; 0 or `Infinity` means never (default). */
  maxReqsPerChild?: number;
  /** If set, each worker draws its limit at random between this and `maxReqsPerChild`. */
  minReqsPerChild?: number;
  /** Seconds to wait after starting each worker, for slow starts and restarts (default 0). */
  spawnInterval?: number;
  /**
   * Seconds a worker may go without answering a heartbeat before it counts as hung and is
   * replaced (default 30).
   */
  workerTimeout?: number;
  /**
   * Bytes of V8 heap in use past which a worker is replaced, replacement first; 0 means no limit
   * (default).
   */
  maxWorkerMemory?: number;
  /** Accepted for compatibility with the Perl original's supervisor poll interval (default 0.1). */
  mainProcessDelay?: number;
  /** Seconds workers get to finish in-flight requests when stopping (default 30). */
  gracefulTimeout?: number;
  /** Restart the workers when the app's files change (default `false`). */
  reload?: boolean;
  /** The `Server` response header, unless the app sets one (default `Starlight/<version>`). */
  serverSoftware?: string;
  /**
   * Environment name; `"development"` adds stack traces to 500 responses and an access log
   * (default `"production"`).
   */
  env?: string;
  /** Suppress the start-up banner and routine log lines: warnings and errors only (default `false`). */
  quiet?: boolean;
  /** How server log lines look (default `"text"`). */
  logFormat?: LogFormat;
  /**
   * The app's deno.json (default: the deno.json or deno.jsonc nearest above the app file). The
   * command line re-launches itself with it; `serve()` warns when its process runs with another.
   */
  config?: string;
  /** File to write errors to instead of stderr. */
  errorLog?: string;
  /** File to write the access log to. */
  accessLog?: string;
  /** Serve HTTPS; needs `sslKeyFile` and `sslCertFile` (default `false`). */
  ssl?: boolean;
  /** PEM file with the TLS private key. */
  sslKeyFile?: string;
  /** PEM file with the TLS certificate chain. */
  sslCertFile?: string;
  /** PEM file with CA certificates for verification. */
  sslCaFile?: string;
  /** PEM file with the CA certificates client certificates must chain to. */
  sslClientCaFile?: string;
  /** Client certificate checks, as IO::Socket::SSL's `SSL_verify_mode`: 0-7 (default 0, none). */
  sslVerifyMode?: number;
  /** User name or id to switch to after listening. */
  user?: string;
  /** Groups (names or ids, comma or space separated, primary first) to switch to once listening. */
  group?: string;
  /** File mode creation mask, e.g. `0o022`. */
  umask?: number;
  /** Run in the background (default `false`). */
  daemonize?: boolean;
  /** File to write the server's process id to. */
  pid?: string;
  /** What the app may do; by default only listen on its addresses and read its own directory. */
  permissions?: WorkerPermissions;
}

/**
 * Options after validation, with every default applied and every path made absolute (a
 * daemonized server changes directory). `listeners` replaces `listen`, `socket` and `ipv6`.
 *
 * @example
 * ```ts
 * import type { ResolvedOptions } from "@x/starlight";
 * const summary = (options: ResolvedOptions): string =>
 *   `${options.workers} workers, keep-alive ${options.keepaliveTimeout} s`;
 * ```
 */
export interface ResolvedOptions {
  /** A module URL (`file:` for local paths), or the handler itself when `workers` is 0. */
  app: string | App;
  /** Every address to listen on, at least one, no duplicates. */
  listeners: ListenSpec[];
  /** The host for `--host`-style listeners. */
  host: string;
  /** The port for `--port`-style listeners. */
  port: number;
  /** Worker count; 0 serves in the main thread. */
  workers: number;
  /** How workers share a TCP port. */
  listenMode: ListenMode;
  /** The HTTP engine. */
  engine: Engine;
  /** Workers as threads or as processes. */
  isolation: Isolation;
  /** Every TCP connection starts with a PROXY protocol header. */
  proxyProtocol: boolean;
  /** Peers whose forwarding headers are trusted, as given; `undefined` for none. */
  forwardedAllowIps: string | undefined;
  /** The path Starlight answers itself, if any. */
  healthPath: string | undefined;
  /** Where `/metrics` and `/status` are served, if anywhere. */
  metricsListen: ListenSpec | undefined;
  /** Whether responses are compressed. */
  compress: boolean;
  /** Seconds of health-path 503 after TERM before shutting down. */
  shutdownDelay: number;
  /** Seconds a connection may stay silent while a request or response is in flight. */
  timeout: number;
  /** Seconds allowed to receive a whole request head. */
  headerTimeout: number;
  /** Seconds to wait for the next request on a keep-alive connection. */
  keepaliveTimeout: number;
  /** Requests per connection; `Infinity` when unlimited. */
  maxKeepaliveReqs: number;
  /** Largest request body in bytes; `Infinity` when unlimited. */
  maxRequestBody: number;
  /** Largest WebSocket message in bytes; `Infinity` when unlimited. */
  maxWsMessage: number;
  /** Requests a worker serves before it is replaced; `Infinity` for never. */
  maxReqsPerChild: number;
  /** Lower bound of a worker's random request limit; only set when `maxReqsPerChild` is finite. */
  minReqsPerChild: number | undefined;
  /** Seconds to wait after starting each worker. */
  spawnInterval: number;
  /** Seconds without a heartbeat after which a worker counts as hung. */
  workerTimeout: number;
  /** Bytes of V8 heap in use past which a worker is replaced; `Infinity` when unlimited. */
  maxWorkerMemory: number;
  /** The Perl original's supervisor poll interval, in seconds. */
  mainProcessDelay: number;
  /** Seconds workers get to finish in-flight requests when stopping. */
  gracefulTimeout: number;
  /** Whether to restart workers when the app's files change. */
  reload: boolean;
  /** The `Server` response header. */
  serverSoftware: string;
  /** Environment name, e.g. `"production"` or `"development"`. */
  env: string;
  /** Whether to suppress the start-up banner and routine log lines. */
  quiet: boolean;
  /** How server log lines look. */
  logFormat: LogFormat;
  /** Absolute path of the app's deno.json given with `--config`, if any. */
  config: string | undefined;
  /** Absolute path of the error log, if any. */
  errorLog: string | undefined;
  /** Absolute path of the access log, if any. */
  accessLog: string | undefined;
  /** Whether TCP listeners serve HTTPS; if so, the key and certificate files are set. */
  ssl: boolean;
  /** Absolute path of the TLS private key. */
  sslKeyFile: string | undefined;
  /** Absolute path of the TLS certificate chain. */
  sslCertFile: string | undefined;
  /** Absolute path of the CA certificates. */
  sslCaFile: string | undefined;
  /** Absolute path of the CA certificates for client certificates. */
  sslClientCaFile: string | undefined;
  /** Client certificate checks, 0-7 as IO::Socket::SSL's `SSL_verify_mode`. */
  sslVerifyMode: number;
  /** User to switch to after listening. */
  user: string | undefined;
  /** Groups to switch to after listening. */
  group: string | undefined;
  /** File mode creation mask. */
  umask: number | undefined;
  /** Whether to run in the background. */
  daemonize: boolean;
  /** Absolute path of the pid file, if any. */
  pid: string | undefined;
  /** What the app's workers may do beyond the default sandbox. */
  permissions: ResolvedPermissions;
}

/** What the command line asked for. */
export interface CliRequest {
  /** The options given, not yet validated against each other nor defaulted. */
  options: ServeOptions;
  /** `-h`/`--help` was given. */
  help: boolean;
  /** `-v`/`--version` was given. */
  version: boolean;
}
