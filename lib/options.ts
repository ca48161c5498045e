/**
 * The one option schema: names, aliases, defaults and validation, shared by the command line
 * (`parseCliArgs`) and the embedding API (`resolveOptions`).
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { App } from "./handler.ts";
import { formatListenSpec, type ListenSpec, parseListenSpec } from "./listen_spec.ts";
import { VERSION } from "./version.ts";

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

/** The listen mode used when none is given; one constant so measurements can change it. */
export const DEFAULT_LISTEN_MODE: ListenMode = "shared";

/**
 * Options of the embedding API. Every field is optional; {@linkcode resolveOptions} applies
 * the defaults. Times are in seconds and may be fractional; sizes are in bytes.
 *
 * @example Serving a module with four workers
 * ```ts
 * import type { ServeOptions } from "@x/starlight";
 * const options: ServeOptions = {
 *   app: new URL("./app.ts", import.meta.url),
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
  /** How workers share a TCP port (default {@linkcode DEFAULT_LISTEN_MODE}). */
  listenMode?: ListenMode;
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
  /** Suppress the start-up banner (default `false`). */
  quiet?: boolean;
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
  /** Whether to suppress the start-up banner. */
  quiet: boolean;
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

/**
 * A bad option, from the command line or the API. The message is one line naming the option,
 * fit to print after `starlight: `.
 *
 * @example Telling a bad option from other start-up failures
 * ```ts
 * import { OptionError, serve } from "@x/starlight";
 * try {
 *   await serve({ app: "./app.ts", port: 70000 });
 * } catch (error) {
 *   if (!(error instanceof OptionError)) throw error;
 *   // "--port", "--port: 70000 is not a port number (0-65535)"
 *   console.error(error.option, error.message);
 * }
 * ```
 */
export class OptionError extends Error {
  /** The option at fault as a flag, e.g. `--port`. */
  readonly option: string;

  /** Creates an option error; `message` should mention `option`. */
  constructor(option: string, message: string) {
    super(message);
    this.name = "OptionError";
    this.option = option;
  }
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

/** The sections of the help text. */
export type OptionGroup =
  | "General"
  | "Listening"
  | "Workers"
  | "Timeouts and limits"
  | "TLS"
  | "Process"
  | "Logging"
  | "Permissions"
  | "Unsupported";

/** One option as the help text shows it. */
export interface OptionHelp {
  /** Every spelling, short first, e.g. `["-p", "--port"]`. */
  flags: readonly string[];
  /** Placeholder for the value (e.g. `PORT`), or `undefined` for a boolean flag. */
  valueName: string | undefined;
  /** Whether the value is optional and must be attached with `=`, as for `--allow-net[=HOSTS]`. */
  valueOptional: boolean;
  /** The help section. */
  group: OptionGroup;
  /** One line saying what it does. */
  description: string;
  /** The default as the user would type it, if there is one worth showing. */
  defaultText: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Value rules: one per kind of number, so the CLI and the API reject the same values alike.

interface NumberRule {
  /** Completes "'x' is not …". */
  readonly expected: string;
  /** CLI text → number; `undefined` when the text is not even the right shape. */
  readonly parse: (text: string) => number | undefined;
  readonly accepts: (value: number) => boolean;
  /** How the help shows a default. */
  readonly show: (value: number) => string;
}

const KIB = 1024;
const MIB = KIB * KIB;
const GIB = MIB * KIB;
const SIZE_UNITS: Record<string, number> = { "": 1, k: KIB, m: MIB, g: GIB };

const wholeNumber = (text: string): number | undefined =>
  /^\d+$/.test(text) ? Number(text) : undefined;
const decimal = (text: string): number | undefined =>
  /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : undefined;
const isCount = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;

const PORT: NumberRule = {
  expected: "a port number (0-65535)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value <= 65535,
  show: String,
};
const COUNT: NumberRule = {
  expected: "a whole number (0 or more)",
  parse: wholeNumber,
  accepts: isCount,
  show: String,
};
const POSITIVE_COUNT: NumberRule = {
  expected: "a whole number (1 or more)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value >= 1,
  show: String,
};
/** A count where 0 and `inf` both mean "no limit". */
const LIMIT: NumberRule = {
  expected: "a whole number, or 0 or inf for no limit",
  parse: (text) => /^inf(inity)?$/i.test(text) ? Infinity : wholeNumber(text),
  accepts: (value) => isCount(value) || value === Infinity,
  show: (value) => value === Infinity ? "inf" : String(value),
};
const SECONDS: NumberRule = {
  expected: "a number of seconds (0 or more)",
  parse: decimal,
  accepts: (value) => Number.isFinite(value) && value >= 0,
  show: String,
};
const POSITIVE_SECONDS: NumberRule = {
  expected: "a number of seconds above 0",
  parse: decimal,
  accepts: (value) => Number.isFinite(value) && value > 0,
  show: String,
};
const BYTES: NumberRule = {
  expected: "a size in bytes (suffix k, m or g allowed; 0 for no limit)",
  parse: (text) => {
    const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
    return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : undefined;
  },
  accepts: (value) => isCount(value) || value === Infinity,
  show: (value) => {
    for (const [suffix, unit] of [["g", GIB], ["m", MIB], ["k", KIB]] as const) {
      if (value >= unit && value % unit === 0) return `${value / unit}${suffix}`;
    }
    return String(value);
  },
};
const VERIFY_MODE: NumberRule = {
  expected: "a verify mode (0-7)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value <= 7,
  show: String,
};
const UMASK: NumberRule = {
  expected: "an octal umask like 022",
  parse: (text) => /^[0-7]{1,4}$/.test(text) ? parseInt(text, 8) : undefined,
  accepts: (value) => isCount(value) && value <= 0o777,
  show: (value) => value.toString(8).padStart(3, "0"),
};

// ---------------------------------------------------------------------------------------------
// The option table: every flag, what it sets, and how the help describes it.

type FieldsOf<T> = {
  [K in keyof ServeOptions]-?: [ServeOptions[K]] extends [T | undefined]
    ? [T] extends [NonNullable<ServeOptions[K]>] ? K : never
    : never;
}[keyof ServeOptions];
type BooleanField = FieldsOf<boolean>;
type NumberField = FieldsOf<number>;
type TextField = FieldsOf<string>;

type PermissionName = Exclude<keyof WorkerPermissions, "all">;

type SpecKind =
  | { kind: "boolean"; field: BooleanField }
  /** `fallback` is the default; without one the option stays `undefined` when not given. */
  | { kind: "number"; field: NumberField; rule: NumberRule; fallback?: number }
  | { kind: "text"; field: TextField }
  | { kind: "listen-mode" }
  | { kind: "listen" }
  | { kind: "app" }
  | { kind: "permission"; permission: PermissionName }
  | { kind: "allow-all" }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "unsupported" };

type Spec = SpecKind & {
  /** Long names without dashes, canonical first; a lone letter stands for a short-only flag. */
  names: readonly string[];
  short?: string;
  valueName?: string;
  group: OptionGroup;
  description: string;
  defaultText?: string;
};

const CPUS = navigator.hardwareConcurrency;
const DEFAULT_HOST = "0.0.0.0";
const DEFAULT_IPV6_HOST = "::";
const DEFAULT_ENV = "production";
const DEFAULT_SERVER_SOFTWARE = `Starlight/${VERSION}`;
const PERMISSION_NAMES: readonly PermissionName[] = [
  "net",
  "read",
  "write",
  "env",
  "run",
  "sys",
  "ffi",
  "import",
];
const PERMISSION_HELP: Readonly<Record<PermissionName, readonly [string, string]>> = {
  net: ["HOSTS", "allow network access beyond the app's own listeners"],
  read: ["PATHS", "allow reading files beyond the app's own directory"],
  write: ["PATHS", "allow writing files"],
  env: ["NAMES", "allow reading environment variables"],
  run: ["PROGRAMS", "allow running programs"],
  sys: ["APIS", "allow system information APIs"],
  ffi: ["PATHS", "allow loading native libraries"],
  import: ["HOSTS", "allow importing code from remote hosts"],
};
/** Permissions whose entries are file paths, so relative ones must be made absolute. */
const PATH_PERMISSIONS: ReadonlySet<PermissionName> = new Set(["read", "write", "ffi"]);

const SPECS: readonly Spec[] = [
  {
    kind: "app",
    names: ["app"],
    short: "a",
    valueName: "FILE|URL",
    group: "General",
    description: "the app module (or give it as the last argument)",
  },
  {
    kind: "text",
    field: "env",
    names: ["env"],
    short: "E",
    valueName: "NAME",
    group: "General",
    description: "environment; development adds stack traces to 500s and an access log",
    defaultText: DEFAULT_ENV,
  },
  {
    kind: "text",
    field: "serverSoftware",
    names: ["server-software"],
    valueName: "NAME",
    group: "General",
    description: "the Server response header, unless the app sets one",
    defaultText: DEFAULT_SERVER_SOFTWARE,
  },
  { kind: "help", names: ["help"], short: "h", group: "General", description: "show this help" },
  {
    kind: "version",
    names: ["version"],
    short: "v",
    group: "General",
    description: "show the version",
  },

  {
    kind: "text",
    field: "host",
    names: ["host"],
    short: "o",
    valueName: "HOST",
    group: "Listening",
    description: "address to listen on",
    defaultText: `${DEFAULT_HOST}, or ${DEFAULT_IPV6_HOST} with --ipv6`,
  },
  {
    kind: "number",
    field: "port",
    rule: PORT,
    fallback: 5000,
    names: ["port"],
    short: "p",
    valueName: "PORT",
    group: "Listening",
    description: "TCP port to listen on",
  },
  {
    kind: "listen",
    names: ["listen"],
    short: "l",
    valueName: "ADDR",
    group: "Listening",
    description: "HOST:PORT, :PORT, [IPv6]:PORT, socket path or @abstract; repeatable",
  },
  {
    kind: "text",
    field: "socket",
    names: ["socket"],
    short: "S",
    valueName: "PATH",
    group: "Listening",
    description: "also listen on this UNIX socket (@name: abstract socket)",
  },
  {
    kind: "boolean",
    field: "ipv6",
    names: ["ipv6"],
    group: "Listening",
    description: "listen on :: rather than 0.0.0.0 by default",
  },
  {
    kind: "listen-mode",
    names: ["listen-mode"],
    valueName: "MODE",
    group: "Listening",
    description: "reuseport: a socket per worker; shared: one accept queue",
    defaultText: DEFAULT_LISTEN_MODE,
  },

  {
    kind: "number",
    field: "workers",
    rule: COUNT,
    fallback: CPUS,
    names: ["workers", "max-workers"],
    valueName: "N",
    group: "Workers",
    description: "worker count; 0 serves in the main thread",
    defaultText: `number of CPUs, ${CPUS}`,
  },
  {
    kind: "number",
    field: "maxReqsPerChild",
    rule: LIMIT,
    fallback: Infinity,
    names: ["max-reqs-per-child", "max-requests"],
    valueName: "N",
    group: "Workers",
    description: "requests a worker serves before it is replaced; 0 or inf: never",
  },
  {
    kind: "number",
    field: "minReqsPerChild",
    rule: POSITIVE_COUNT,
    names: ["min-reqs-per-child"],
    valueName: "N",
    group: "Workers",
    description: "draw each worker's limit at random from [N, --max-reqs-per-child]",
  },
  {
    kind: "number",
    field: "spawnInterval",
    rule: SECONDS,
    fallback: 0,
    names: ["spawn-interval"],
    valueName: "SECONDS",
    group: "Workers",
    description: "pause after starting each worker, for slow starts and restarts",
  },
  {
    kind: "number",
    field: "gracefulTimeout",
    rule: SECONDS,
    fallback: 30,
    names: ["graceful-timeout"],
    valueName: "SECONDS",
    group: "Workers",
    description: "time workers get to finish in-flight requests when stopping",
  },
  {
    kind: "number",
    field: "mainProcessDelay",
    rule: SECONDS,
    fallback: 0.1,
    names: ["main-process-delay"],
    valueName: "SECONDS",
    group: "Workers",
    description: "accepted for compatibility with the Perl original",
  },
  {
    kind: "boolean",
    field: "reload",
    names: ["reload"],
    short: "r",
    group: "Workers",
    description: "restart the workers when the app's files change",
  },

  {
    kind: "number",
    field: "timeout",
    rule: POSITIVE_SECONDS,
    fallback: 300,
    names: ["timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "longest silence while a request or response is in flight",
  },
  {
    kind: "number",
    field: "headerTimeout",
    rule: POSITIVE_SECONDS,
    fallback: 30,
    names: ["header-timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "total time to receive a request head, however slowly it arrives",
  },
  {
    kind: "number",
    field: "keepaliveTimeout",
    rule: SECONDS,
    fallback: 5,
    names: ["keepalive-timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "how long an idle keep-alive connection waits for its next request",
  },
  {
    kind: "number",
    field: "maxKeepaliveReqs",
    rule: LIMIT,
    fallback: 1000,
    names: ["max-keepalive-reqs"],
    valueName: "N",
    group: "Timeouts and limits",
    description: "requests per connection; 1 turns keep-alive off, 0: no limit",
  },
  {
    kind: "number",
    field: "maxRequestBody",
    rule: BYTES,
    fallback: 64 * MIB,
    names: ["max-request-body"],
    valueName: "SIZE",
    group: "Timeouts and limits",
    description: "largest request body (k, m, g suffixes); 0: no limit",
  },
  {
    kind: "number",
    field: "maxWsMessage",
    rule: BYTES,
    fallback: 64 * MIB,
    names: ["max-ws-message"],
    valueName: "SIZE",
    group: "Timeouts and limits",
    description: "largest WebSocket message (k, m, g suffixes); 0: no limit",
  },

  {
    kind: "boolean",
    field: "ssl",
    names: ["ssl"],
    group: "TLS",
    description: "serve HTTPS; needs --ssl-key-file and --ssl-cert-file",
  },
  {
    kind: "text",
    field: "sslKeyFile",
    names: ["ssl-key-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM private key",
  },
  {
    kind: "text",
    field: "sslCertFile",
    names: ["ssl-cert-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM certificate chain",
  },
  {
    kind: "text",
    field: "sslCaFile",
    names: ["ssl-ca-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM CA certificates for verification",
  },
  {
    kind: "text",
    field: "sslClientCaFile",
    names: ["ssl-client-ca-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM CA certificates that client certificates must chain to",
  },
  {
    kind: "number",
    field: "sslVerifyMode",
    rule: VERIFY_MODE,
    fallback: 0,
    names: ["ssl-verify-mode"],
    valueName: "MODE",
    group: "TLS",
    description: "client certificate checks as IO::Socket::SSL's SSL_verify_mode; 0: none",
  },

  {
    kind: "text",
    field: "user",
    names: ["user"],
    valueName: "USER",
    group: "Process",
    description: "user name or id to switch to after listening",
  },
  {
    kind: "text",
    field: "group",
    names: ["group"],
    valueName: "GROUPS",
    group: "Process",
    description: "groups to switch to after listening, comma separated, primary first",
  },
  {
    kind: "number",
    field: "umask",
    rule: UMASK,
    names: ["umask"],
    valueName: "MASK",
    group: "Process",
    description: "file mode creation mask, octal (e.g. 022)",
  },
  {
    kind: "boolean",
    field: "daemonize",
    names: ["daemonize"],
    short: "D",
    group: "Process",
    description: "run in the background",
  },
  {
    kind: "text",
    field: "pid",
    names: ["pid"],
    valueName: "FILE",
    group: "Process",
    description: "write the server's process id to this file",
  },

  {
    kind: "boolean",
    field: "quiet",
    names: ["quiet"],
    short: "q",
    group: "Logging",
    description: "no start-up banner",
  },
  {
    kind: "text",
    field: "errorLog",
    names: ["error-log"],
    valueName: "FILE",
    group: "Logging",
    description: "write errors to this file instead of stderr",
  },
  {
    kind: "text",
    field: "accessLog",
    names: ["access-log"],
    valueName: "FILE",
    group: "Logging",
    description: "write the access log to this file",
  },

  ...PERMISSION_NAMES.map((permission): Spec => ({
    kind: "permission",
    permission,
    names: [`allow-${permission}`],
    valueName: PERMISSION_HELP[permission][0],
    group: "Permissions",
    description: PERMISSION_HELP[permission][1],
  })),
  {
    kind: "allow-all",
    names: ["allow-all"],
    short: "A",
    group: "Permissions",
    description: "no sandbox: the app may do anything the server may",
  },

  ...([["I"], ["M"], ["e"], ["R"], ["s", "server"], ["L", "loader"]] as const).map((
    [short, name],
  ): Spec => ({
    kind: "unsupported",
    names: [name ?? short],
    short,
    group: "Unsupported",
    description: "a plackup option with no meaning here",
  })),
];

const SPEC_BY_NAME: ReadonlyMap<string, Spec> = new Map(
  SPECS.flatMap((spec) => spec.names.map((name) => [name, spec])),
);
type NumberSpec = Extract<Spec, { kind: "number" }>;
const SPEC_BY_FIELD: ReadonlyMap<string, Spec> = new Map(
  SPECS.flatMap((spec) => "field" in spec ? [[spec.field, spec]] : []),
);
const NUMBER_SPEC_BY_FIELD: ReadonlyMap<string, NumberSpec> = new Map(
  SPECS.flatMap((spec) => spec.kind === "number" ? [[spec.field, spec]] : []),
);

/** Whether the flag reads a value; allow flags only take one attached with `=`. */
function takesValue(spec: Spec): boolean {
  return !["boolean", "permission", "allow-all", "help", "version", "unsupported"].includes(
    spec.kind,
  );
}

const PARSE_CONFIG: Record<string, { type: "string" | "boolean"; short?: string }> = Object
  .fromEntries(
    SPECS.flatMap((spec) =>
      spec.names.map((name, index) => [name, {
        type: takesValue(spec) ? "string" : "boolean",
        ...(index === 0 && spec.short ? { short: spec.short } : {}),
      }])
    ),
  );

/**
 * Every option as the help text shows it, in help order.
 *
 * @example
 * ```ts
 * import { OPTION_HELP } from "./options.ts";
 * const port = OPTION_HELP.find((option) => option.flags.includes("--port"));
 * ```
 */
export const OPTION_HELP: readonly OptionHelp[] = SPECS.map((spec) => ({
  flags: [
    ...(spec.short ? [`-${spec.short}`] : []),
    ...spec.names.filter((name) => name !== spec.short).map((name) => `--${name}`),
  ],
  valueName: spec.valueName,
  valueOptional: spec.kind === "permission",
  group: spec.group,
  description: spec.description,
  defaultText: spec.defaultText ??
    (spec.kind === "number" && spec.fallback !== undefined
      ? spec.rule.show(spec.fallback)
      : undefined),
}));

// ---------------------------------------------------------------------------------------------
// The command line.

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  "1": true,
  "true": true,
  "0": false,
  "false": false,
};

/**
 * Reads a command line (without the program name) into options. Each value is checked on its
 * own here; {@linkcode resolveOptions} checks how they fit together and applies defaults.
 *
 * Boolean flags take no value or an attached `=1`, `=0`, `=true`, `=false`; other options take
 * the next argument or an attached `=value`; `--allow-*` flags never take the next argument, so
 * `--allow-net app.ts` allows all network access and serves `app.ts`. `--` ends the options.
 *
 * @throws {OptionError} for unknown or unsupported flags, missing or malformed values, or two apps.
 * @example
 * ```ts
 * import { parseCliArgs } from "./options.ts";
 * const { options } = parseCliArgs(["--port=8080", "--allow-net", "app.ts"]);
 * // options: { port: 8080, permissions: { net: true }, app: "app.ts" }
 * ```
 */
export function parseCliArgs(argv: string[]): CliRequest {
  const { tokens } = parseArgs({
    args: argv,
    options: PARSE_CONFIG,
    // Strict mode rejects `--quiet=1` and cannot tell which flags were unknown; tokens can.
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const request: CliRequest = { options: {}, help: false, version: false };
  const options = request.options;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      setApp(options, token.value);
      continue;
    }
    const flag = token.rawName;
    const spec = SPEC_BY_NAME.get(token.name);
    if (spec === undefined) throw new OptionError(flag, `unknown option ${flag}`);
    if (spec.kind === "unsupported") {
      throw new OptionError(
        flag,
        `${flag} is not supported by Starlight for Deno (${spec.description})`,
      );
    }
    if (!takesValue(spec)) {
      applySwitch(request, spec, flag, token.value);
      continue;
    }
    let text = token.value;
    // `-p=8080` is how Getopt::Long users write it; parseArgs would keep the `=`.
    if (token.inlineValue && !flag.startsWith("--")) text = text?.replace(/^=/, "");
    // parseArgs hands a value option the next argument even when it is another flag.
    if (text === undefined || text === "" || (!token.inlineValue && /^-./.test(text))) {
      throw new OptionError(flag, `${flag} needs a value`);
    }
    applyValue(options, spec, flag, text);
  }
  return request;
}

function applySwitch(request: CliRequest, spec: Spec, flag: string, text: string | undefined) {
  const options = request.options;
  if (spec.kind === "permission") {
    addPermission(options, spec.permission, text === undefined ? true : splitList(flag, text));
    return;
  }
  const on = text === undefined ? true : BOOLEAN_WORDS[text.toLowerCase()];
  if (on === undefined) {
    throw new OptionError(flag, `${flag}: '${text}' is not 1, 0, true or false`);
  }
  switch (spec.kind) {
    case "boolean":
      options[spec.field] = on;
      break;
    case "allow-all":
      options.permissions = { ...options.permissions, all: on };
      break;
    case "help":
      request.help = on;
      break;
    case "version":
      request.version = on;
      break;
  }
}

function applyValue(options: ServeOptions, spec: Spec, flag: string, text: string) {
  switch (spec.kind) {
    case "app":
      setApp(options, text);
      break;
    case "text":
      options[spec.field] = text;
      break;
    case "number": {
      const value = spec.rule.parse(text);
      if (value === undefined || !spec.rule.accepts(value)) {
        throw new OptionError(flag, `${flag}: '${text}' is not ${spec.rule.expected}`);
      }
      options[spec.field] = value;
      break;
    }
    case "listen-mode":
      options.listenMode = listenMode(flag, text);
      break;
    case "listen":
      options.listen = [...options.listen ?? [], text];
      break;
  }
}

function setApp(options: ServeOptions, app: string) {
  if (options.app !== undefined) {
    throw new OptionError("--app", `--app: two apps given, '${options.app}' and '${app}'`);
  }
  options.app = app;
}

function splitList(flag: string, text: string): string[] {
  const items = text.split(",");
  if (items.includes("")) throw new OptionError(flag, `${flag}: empty entry in '${text}'`);
  return items;
}

function addPermission(options: ServeOptions, name: PermissionName, grant: true | string[]) {
  const permissions = options.permissions ??= {};
  const before = permissions[name];
  // A bare flag already allows everything a list could add.
  permissions[name] = before === true || grant === true ? true : [...before || [], ...grant];
}

function listenMode(flag: string, value: unknown): ListenMode {
  if (value === "reuseport" || value === "shared") return value;
  throw new OptionError(flag, `${flag}: ${show(value)} is not reuseport or shared`);
}

// ---------------------------------------------------------------------------------------------
// Validation and defaults, for options from either source.

const URL_APP = /^(https?|file|jsr|npm):/i;

/**
 * Validates options, applies defaults and makes every path absolute against `Deno.cwd()`.
 *
 * @throws {OptionError} naming the option (as its command-line flag) that is wrong.
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
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

  const workers = number(options, "workers");
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

  return {
    app,
    listeners,
    host,
    port,
    workers,
    listenMode: options.listenMode === undefined
      ? DEFAULT_LISTEN_MODE
      : listenMode("--listen-mode", options.listenMode),
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
    mainProcessDelay: number(options, "mainProcessDelay"),
    gracefulTimeout: number(options, "gracefulTimeout"),
    reload: boolean(options, "reload"),
    serverSoftware: text(options, "serverSoftware") ?? DEFAULT_SERVER_SOFTWARE,
    env: text(options, "env") ?? DEFAULT_ENV,
    quiet: boolean(options, "quiet"),
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
    if (key !== "all" && !PERMISSION_NAMES.includes(key as PermissionName)) {
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

function unlimitedIfZero(value: number): number {
  return value === 0 ? Infinity : value;
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : String(value);
}
