/**
 * The "Unsupported" options: flags of plackup and deno that mean something else here.
 *
 * @module
 */

import { type Spec } from "../spec.ts";

/** The "Unsupported" section of the option table, in help order. */
export const UNSUPPORTED_SPECS: readonly Spec[] = [
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
