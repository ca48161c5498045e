/**
 * The command line's usage line and help text, generated from the option table so that every
 * option, alias and default appears exactly as `lib/options.ts` accepts it.
 *
 * @module
 */

import { type OptionGroup, type OptionHelp } from "./spec.ts";
import { OPTION_HELP } from "./table.ts";
import { VERSION } from "../version.ts";

/** The one-line reminder printed after a command-line error. */
export const usageLine: string = "Usage: starlight [options] app.ts";

const GROUPS: readonly OptionGroup[] = [
  "General",
  "Listening",
  "Workers",
  "Timeouts and limits",
  "TLS",
  "Process",
  "Logging",
  "Permissions",
];

/** Printed under a group's heading, for what no single option explains. */
const GROUP_NOTES: Partial<Record<OptionGroup, string>> = {
  Listening: "Given none of --port, --host, --listen, --socket: DENO_SERVE_ADDRESS, if set\n" +
    "(tcp:IP:PORT or unix:PATH; a duplicate, prefix adds it to the listeners instead).",
  "Timeouts and limits": "Times are in seconds and may be fractional.",
  Permissions: "By default the app may only listen on its own addresses and read its own " +
    "directory.\nA bare flag allows everything of its kind; =a,b allows only those (repeatable).",
};

/**
 * Where `deno serve`'s spellings mean something else here, or nothing. Deno's own runtime flags
 * (`--config` before the script, `--env-file`, `--unstable-*`, `--no-check`, …) go before the
 * script, as for any deno program.
 */
const DENO_SERVE_NOTES: readonly string[] = [
  "--port, --host, -A, -q, -h, -c/--config mean what they mean there;",
  "--watch is -r here (restarts the workers gracefully), --parallel is --workers = CPUs.",
  "-E is --env here, not --allow-env;  -S is --socket here, not --allow-sys;",
  "-r is --reload (watch) here, not deno's cache reload;  -v is --version.",
  "-N, -W, -P, -R, -I are not Starlight's: spell out --allow-net, --allow-write,",
  "--allow-read, --allow-import (these grant the app, which runs sandboxed).",
  "Deno's runtime flags (--env-file, --unstable-*, --no-check, ...) go before the script.",
];

/** Longest flag column worth aligning to; longer ones push their description along. */
const MAX_FLAG_COLUMN = 34;

/**
 * The full `--help` text: usage, every option with its default and a one-line description,
 * grouped by topic.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const rows = OPTION_HELP.map((option) => [flagColumn(option), describe(option)] as const);
  const width = Math.min(
    MAX_FLAG_COLUMN,
    Math.max(...rows.map(([flags]) => flags.length)),
  );
  const lines = [
    usageLine,
    "",
    `Starlight for Deno ${VERSION}: a multi-worker HTTP/1.1 server. app.ts default-exports a`,
    "fetch handler, or an object with a fetch method.",
  ];
  for (const group of GROUPS) {
    lines.push("", `${group}:`);
    const note = GROUP_NOTES[group];
    if (note) lines.push(...note.split("\n").map((line) => `  ${line}`));
    OPTION_HELP.forEach((option, index) => {
      if (option.group !== group) return;
      const [flags, description] = rows[index];
      lines.push(`  ${flags.padEnd(width)}  ${description}`);
    });
  }
  lines.push("", "Not supported:");
  for (const option of OPTION_HELP.filter((option) => option.group === "Unsupported")) {
    lines.push(`  ${option.flags.join(", ").padEnd(width)}  ${option.description}`);
  }
  lines.push("", "Coming from deno serve:", ...DENO_SERVE_NOTES.map((line) => `  ${line}`));
  return lines.join("\n") + "\n";
}

function flagColumn(option: OptionHelp): string {
  const flags = option.flags.join(", ");
  if (option.valueName === undefined) return flags;
  return option.valueOptional ? `${flags}[=${option.valueName}]` : `${flags} ${option.valueName}`;
}

function describe(option: OptionHelp): string {
  return option.defaultText === undefined
    ? option.description
    : `${option.description} (default: ${option.defaultText})`;
}
