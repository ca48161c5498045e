/**
 * The "General" options: the app, its environment and the server's name.
 *
 * @module
 */

import { DEFAULT_ENV, DEFAULT_SERVER_SOFTWARE, ENGINES, type Spec } from "../spec.ts";

/** The "General" section of the option table, in help order. */
export const GENERAL_SPECS: readonly Spec[] = [
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
    kind: "choice",
    field: "engine",
    choices: ENGINES,
    names: ["engine"],
    valueName: "ENGINE",
    group: "General",
    description: "ts: Starlight's HTTP engine; native: Deno's (docs/engines.md says what differs)",
    defaultText: "ts",
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
  {
    kind: "boolean",
    field: "compress",
    names: ["compress"],
    group: "General",
    description:
      "gzip or br for compressible responses above 64 bytes when the client accepts them, as Deno.serve's automatic compression",
  },
  { kind: "help", names: ["help"], short: "h", group: "General", description: "show this help" },
  {
    kind: "version",
    names: ["version"],
    short: "v",
    group: "General",
    description: "show the version",
  },
];
