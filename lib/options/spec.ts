/**
 * What an option is: its kind, the field of `ServeOptions` it sets, its spellings and its help
 * line; with the defaults and names the option groups share.
 *
 * @example
 * ```ts
 * import { DEFAULT_PORT, type Spec } from "./spec.ts";
 * const port: Spec = { kind: "text", field: "env", names: ["env"], group: "General", description: "x" };
 * ```
 *
 * @module
 */

import type { Engine, ListenMode, LogFormat, ServeOptions, WorkerPermissions } from "./types.ts";
import type { NumberRule } from "./rules.ts";
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
// The option table: every flag, what it sets, and how the help describes it.

type FieldsOf<T> = {
  [K in keyof ServeOptions]-?: [ServeOptions[K]] extends [T | undefined]
    ? [T] extends [NonNullable<ServeOptions[K]>] ? K : never
    : never;
}[keyof ServeOptions];
export type BooleanField = FieldsOf<boolean>;
export type NumberField = FieldsOf<number>;
export type TextField = FieldsOf<string>;
/** The options whose value is one of a few words. */
export type ChoiceField = "listenMode" | "logFormat" | "engine" | "isolation";

export type PermissionName = Exclude<keyof WorkerPermissions, "all">;

type SpecKind =
  | { kind: "boolean"; field: BooleanField }
  /** `fallback` is the default; without one the option stays `undefined` when not given. */
  | { kind: "number"; field: NumberField; rule: NumberRule; fallback?: number }
  | { kind: "text"; field: TextField }
  /** One of a few words; `choices[0]` is the default. */
  | { kind: "choice"; field: ChoiceField; choices: readonly string[] }
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

export const CPUS = navigator.hardwareConcurrency;
/** The default `--port`. */
export const DEFAULT_PORT = 5000;
/** The values `--engine` accepts. */
export const ENGINES: readonly Engine[] = ["ts", "native"];
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
export const PERMISSION_HELP: Readonly<Record<PermissionName, readonly [string, string]>> = {
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
