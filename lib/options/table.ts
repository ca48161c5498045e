/**
 * The option table: every option's spellings, value rule, default and help line. The command line
 * parser, the validation of `serve()` options and the help text are all driven by it.
 *
 * @module
 */

import type { ListenMode, LogFormat, ServeOptions, WorkerPermissions } from "./types.ts";
import { OptionError } from "./error.ts";
import { VERSION } from "../version.ts";

/** The listen mode used when none is given; one constant so measurements can change it. */
export const DEFAULT_LISTEN_MODE: ListenMode = "shared";

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
export type BooleanField = FieldsOf<boolean>;
export type NumberField = FieldsOf<number>;
export type TextField = FieldsOf<string>;

export type PermissionName = Exclude<keyof WorkerPermissions, "all">;

type SpecKind =
  | { kind: "boolean"; field: BooleanField }
  /** `fallback` is the default; without one the option stays `undefined` when not given. */
  | { kind: "number"; field: NumberField; rule: NumberRule; fallback?: number }
  | { kind: "text"; field: TextField }
  | { kind: "listen-mode" }
  | { kind: "log-format" }
  | { kind: "listen" }
  | { kind: "app" }
  | { kind: "permission"; permission: PermissionName }
  | { kind: "allow-all" }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "unsupported" }
  /** A short flag of deno's that means nothing here; `deno` names what it means there. */
  | { kind: "deno-only"; deno: string; instead: string };

export type Spec = SpecKind & {
  /** Long names without dashes, canonical first; a lone letter stands for a short-only flag. */
  names: readonly string[];
  short?: string;
  valueName?: string;
  group: OptionGroup;
  description: string;
  defaultText?: string;
};

const CPUS = navigator.hardwareConcurrency;
/** The default `--port`. */
export const DEFAULT_PORT = 5000;
/** The values `--log-format` accepts. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_IPV6_HOST = "::";
export const DEFAULT_ENV = "production";
export const DEFAULT_SERVER_SOFTWARE = `Starlight/${VERSION}`;
/** The permission kinds a worker is given, in Deno's order. */
export const PERMISSION_KINDS = [
  "net",
  "read",
  "write",
  "env",
  "run",
  "sys",
  "ffi",
  "import",
] as const;
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
export const PATH_PERMISSIONS: ReadonlySet<PermissionName> = new Set(["read", "write", "ffi"]);

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
  {
    kind: "text",
    field: "config",
    names: ["config"],
    short: "c",
    valueName: "FILE",
    group: "General",
    description: "the app's deno.json: import map, nodeModulesDir, compilerOptions, unstable",
    defaultText: "the nearest deno.json(c) above the app",
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
    fallback: DEFAULT_PORT,
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
    kind: "boolean",
    field: "parallel",
    names: ["parallel"],
    group: "Workers",
    description: "as deno serve --parallel: DENO_JOBS workers, or one per CPU",
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
    field: "workerTimeout",
    rule: POSITIVE_SECONDS,
    fallback: 30,
    names: ["worker-timeout"],
    valueName: "SECONDS",
    group: "Workers",
    description: "a worker silent this long (no heartbeat) counts as hung and is replaced",
  },
  {
    kind: "number",
    field: "maxWorkerMemory",
    rule: BYTES,
    fallback: 0,
    names: ["max-worker-memory"],
    valueName: "SIZE",
    group: "Workers",
    description:
      "replace a worker whose V8 heap passes SIZE (k, m, g), replacement first; 0: no limit",
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
    names: ["reload", "watch"],
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
    description: "no start-up banner, no routine lines: warnings and errors only",
  },
  {
    kind: "log-format",
    names: ["log-format"],
    valueName: "FORMAT",
    group: "Logging",
    description: "text (plain ASCII lines) or json (one object per line, for log shippers)",
    defaultText: "text",
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

  ...PERMISSION_KINDS.map((permission): Spec => ({
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

  ...([
    ["I", undefined, "plackup's include path; deno's -I is --allow-import"],
    ["M", undefined, "plackup's module loading"],
    ["e", undefined, "plackup's inline code"],
    ["R", undefined, "plackup's restart paths: use -r; deno's -R is --allow-read"],
    ["s", "server", "plackup's server choice"],
    ["L", "loader", "plackup's loader; deno's -L is --log-level"],
  ] as const).map(([short, name, description]): Spec => ({
    kind: "unsupported",
    names: [name ?? short],
    short,
    group: "Unsupported",
    description,
  })),
  ...([
    ["N", "--allow-net", "--allow-net"],
    ["W", "--allow-write", "--allow-write"],
    ["P", "--permission-set", "the --allow-* flags"],
  ] as const).map(([short, deno, instead]): Spec => ({
    kind: "deno-only",
    deno,
    instead,
    names: [short],
    short,
    group: "Unsupported",
    description: `deno's ${deno}`,
  })),
];

export const SPEC_BY_NAME: ReadonlyMap<string, Spec> = new Map(
  SPECS.flatMap((spec) => spec.names.map((name) => [name, spec])),
);
export type NumberSpec = Extract<Spec, { kind: "number" }>;
export const SPEC_BY_FIELD: ReadonlyMap<string, Spec> = new Map(
  SPECS.flatMap((spec) => "field" in spec ? [[spec.field, spec]] : []),
);
export const NUMBER_SPEC_BY_FIELD: ReadonlyMap<string, NumberSpec> = new Map(
  SPECS.flatMap((spec) => spec.kind === "number" ? [[spec.field, spec]] : []),
);

/** Whether the flag reads a value; allow flags only take one attached with `=`. */
export function takesValue(spec: Spec): boolean {
  return ![
    "boolean",
    "permission",
    "allow-all",
    "help",
    "version",
    "unsupported",
    "deno-only",
  ].includes(spec.kind);
}

export const PARSE_CONFIG: Record<string, { type: "string" | "boolean"; short?: string }> = Object
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
 * import { OPTION_HELP } from "./table.ts";
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

export function listenMode(flag: string, value: unknown): ListenMode {
  if (value === "reuseport" || value === "shared") return value;
  throw new OptionError(flag, `${flag}: ${show(value)} is not reuseport or shared`);
}

export function logFormat(flag: string, value: unknown): LogFormat {
  if (LOG_FORMATS.includes(value as LogFormat)) return value as LogFormat;
  throw new OptionError(flag, `${flag}: ${show(value)} is not ${LOG_FORMATS.join(" or ")}`);
}

export function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : String(value);
}
