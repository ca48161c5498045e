/**
 * The option table: every option's spellings, value rule, default and help line. The command line
 * parser, the validation of `serve()` options and the help text are all driven by it. The rows
 * live in `specs/`, one file per help section.
 *
 * @module
 */

import { OptionError } from "./error.ts";
import { type ChoiceField, type OptionHelp, type Spec } from "./spec.ts";
import { GENERAL_SPECS } from "./specs/general.ts";
import { LISTENING_SPECS } from "./specs/listening.ts";
import { WORKERS_SPECS } from "./specs/workers.ts";
import { LIMITS_SPECS } from "./specs/limits.ts";
import { TLS_SPECS } from "./specs/tls.ts";
import { PROCESS_SPECS } from "./specs/process.ts";
import { LOGGING_SPECS } from "./specs/logging.ts";
import { PERMISSIONS_SPECS } from "./specs/permissions.ts";
import { UNSUPPORTED_SPECS } from "./specs/unsupported.ts";

const SPECS: readonly Spec[] = [
  ...GENERAL_SPECS,
  ...LISTENING_SPECS,
  ...WORKERS_SPECS,
  ...LIMITS_SPECS,
  ...TLS_SPECS,
  ...PROCESS_SPECS,
  ...LOGGING_SPECS,
  ...PERMISSIONS_SPECS,
  ...UNSUPPORTED_SPECS,
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

/**
 * `value` if it is one of `choices`, else an error naming the flag and the choices.
 *
 * @example
 * ```ts ignore
 * choice("--isolation", "process", ["thread", "process"]); // "process"
 * ```
 */
export function choice(flag: string, value: unknown, choices: readonly string[]): string {
  if (choices.includes(value as string)) return value as string;
  const words = choices.length === 2
    ? choices.join(" or ")
    : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
  throw new OptionError(flag, `${flag}: ${show(value)} is not ${words}`);
}

/** The choice option that sets `field`. */
export function choiceSpec(field: ChoiceField): Extract<Spec, { kind: "choice" }> {
  return SPEC_BY_FIELD.get(field) as Extract<Spec, { kind: "choice" }>;
}

export function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : String(value);
}
