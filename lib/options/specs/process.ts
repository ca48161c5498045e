/**
 * The "Process" options: daemon, PID file, user and group.
 *
 * @module
 */

import { type Spec } from "../spec.ts";
import { UMASK } from "../rules.ts";

/** The "Process" section of the option table, in help order. */
export const PROCESS_SPECS: readonly Spec[] = [
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
];
