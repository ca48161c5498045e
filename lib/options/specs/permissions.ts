/**
 * The "Permissions" options: the app's sandbox.
 *
 * @module
 */

import { PERMISSION_HELP, PERMISSION_KINDS, type Spec } from "../spec.ts";

/** The "Permissions" section of the option table, in help order. */
export const PERMISSIONS_SPECS: readonly Spec[] = [
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
];
