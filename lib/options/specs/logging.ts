/**
 * The "Logging" options: log levels, formats and the access log.
 *
 * @module
 */

import { LOG_FORMATS, type Spec } from "../spec.ts";

/** The "Logging" section of the option table, in help order. */
export const LOGGING_SPECS: readonly Spec[] = [
  {
    kind: "boolean",
    field: "quiet",
    names: ["quiet"],
    short: "q",
    group: "Logging",
    description: "no start-up banner, no routine lines: warnings and errors only",
  },
  {
    kind: "choice",
    field: "logFormat",
    choices: LOG_FORMATS,
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
];
