/**
 * Command-line arguments to options, with `parseArgs` from `node:util`: boolean flags bare or
 * `=1`/`=0`, `--allow-*` flags bare or with a list, unknown flags refused by name.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliRequest, ServeOptions } from "./types.ts";
import { OptionError } from "./error.ts";
import { type PermissionName, type Spec } from "./spec.ts";
import { choice, PARSE_CONFIG, SPEC_BY_NAME, takesValue } from "./table.ts";

/**
 * Deno's own runtime flags, given after the script where they reach Starlight instead: named in
 * the error so the user moves them.
 */
const DENO_RUNTIME_FLAG =
  /^--(unstable|deny-|ignore-|inspect|v8-flags|env-file|import-map|no-check|check$|lock|no-lock|frozen|cached-only|node-modules-dir|no-remote|no-npm|cert|location|seed|allow-scripts|no-prompt|no-config|conditions|preload|require|vendor|reload|watch-)/;

/** `deno serve` options with no counterpart here, and what to do instead. */
const DENO_SERVE_ONLY: Readonly<Record<string, string>> = {
  "--open": "open the banner's URL yourself",
  "--watch-hmr": "-r/--watch restarts the workers gracefully instead",
  "--watch-exclude": "-r/--watch skips .git, node_modules and the server's own files",
};

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
 * import { parseCliArgs } from "./argv.ts";
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
    if (spec === undefined) throw unknown(flag);
    if (spec.kind === "deno-only") {
      throw new OptionError(
        flag,
        `unknown option ${flag}: in deno it is ${spec.deno}; here write ${spec.instead}`,
      );
    }
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
    // `deno serve --watch=src` names paths; here the app's directory is always what is watched.
    const watch = flag === "--watch"
      ? " (--watch takes no paths: the app's directory is watched)"
      : "";
    throw new OptionError(flag, `${flag}: '${text}' is not 1, 0, true or false${watch}`);
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

function unknown(flag: string): OptionError {
  const name = flag.split("=")[0];
  const instead = DENO_SERVE_ONLY[name];
  if (instead !== undefined) {
    return new OptionError(flag, `unknown option ${name}: deno serve's; ${instead}`);
  }
  if (DENO_RUNTIME_FLAG.test(name)) {
    return new OptionError(
      flag,
      `unknown option ${name}: it is a deno flag; put it before the script ` +
        `(deno run ${name} … jsr:@x/starlight app.ts)`,
    );
  }
  return new OptionError(flag, `unknown option ${flag}`);
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
    case "choice":
      (options as Record<string, unknown>)[spec.field] = choice(flag, text, spec.choices);
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
