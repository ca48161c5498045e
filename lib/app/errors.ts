/**
 * What went wrong with the app, in Deno's own words: a syntax error names file:line:column, a
 * missing module names the module (not the app), an error thrown while loading shows its first
 * frames, and an unstable API that is missing names the flag or config entry that enables it.
 *
 * @module
 */

/** The app could not be loaded; the first line names the module and the problem. */
export class AppError extends Error {
  override name = "AppError";
}

/**
 * Shows a module URL as the user gave it: a path for local files.
 *
 * @example
 * ```ts
 * import { displayName } from "./errors.ts";
 * displayName("file:///srv/my%20app/app.ts:3:5"); // "/srv/my app/app.ts:3:5"
 * ```
 */
export function displayName(specifier: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  try {
    return decodeURIComponent(specifier.slice("file://".length));
  } catch {
    return specifier;
  }
}

/** ESC [ … m: Deno colours parts of module-graph errors even inside `error.message`. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Frames of an error thrown while loading that are shown. */
const LOAD_FRAMES = 5;

/** Unstable APIs by the global they hang off, with the feature that enables each. */
const UNSTABLE: Readonly<Record<string, string>> = {
  "Deno.openKv": "kv",
  "Deno.Kv": "kv",
  "Deno.KvU64": "kv",
  "Deno.AtomicOperation": "kv",
  "Deno.cron": "cron",
  "Deno.listenDatagram": "net",
  "Deno.connectQuic": "net",
  "Deno.QuicEndpoint": "net",
  "Deno.upgradeWebTransport": "net",
  "WebSocketStream": "net",
  "WebTransport": "net",
  "Temporal": "temporal",
  "BroadcastChannel": "broadcast-channel",
};

/** Starlight's own modules, whose frames say nothing about the app. */
const OWN_MODULES = new URL("../", import.meta.url).href;

function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/**
 * The flag or config entry that enables the unstable API an error message says is missing
 * (`Deno.openKv is not a function`), or `undefined`.
 *
 * @example
 * ```ts
 * import { unstableHint } from "./errors.ts";
 * unstableHint("Deno.openKv is not a function");
 * // 'Deno.openKv is unstable: add "kv" to "unstable" in the app\'s deno.json, or run deno with --unstable-kv'
 * ```
 */
export function unstableHint(message: string): string | undefined {
  const match = /((?:Deno\.)?\w+) is not (?:a function|a constructor|defined)/.exec(message) ??
    /Cannot read properties of undefined \(reading '(\w+)'\)/.exec(message);
  if (match === null) return undefined;
  const api = match[1];
  const feature = UNSTABLE[api] ?? UNSTABLE[`Deno.${api}`];
  if (feature === undefined) return undefined;
  const name = api in UNSTABLE ? api : `Deno.${api}`;
  return `${name} is unstable: add "${feature}" to "unstable" in the app's deno.json, ` +
    `or run deno with --unstable-${feature}`;
}

/** `at file:///x.ts:3:5` frames, as `/x.ts:3:5`, Starlight's own and Deno's internals left out. */
function appFrames(stack: string): string[] {
  return stack.split("\n")
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim())
    .filter((line) => !line.includes(OWN_MODULES) && !/\(?ext:/.test(line))
    .map((line) => line.replace(/file:\/\/[^\s):]+/g, (url) => displayName(url)));
}

/**
 * An error the app threw or rejected with, for the log: its stack (name and message, then the
 * frames), with a line naming the flag for a missing unstable API.
 *
 * @example
 * ```ts
 * import { describeAppError } from "./errors.ts";
 * describeAppError(new TypeError("Deno.openKv is not a function")).split("\n")[0];
 * // "TypeError: Deno.openKv is not a function"
 * ```
 */
export function describeAppError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const head = `${error.name}: ${error.message}`;
  const stack = error.stack ?? head;
  const hint = unstableHint(error.message);
  if (hint === undefined) return stack;
  const lines = stack.split("\n");
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const at = firstFrame === -1 ? lines.length : firstFrame;
  return [...lines.slice(0, at), `    (${hint})`, ...lines.slice(at)].join("\n");
}

/** The location `at file:///x.ts:1:19` at the end of a module-graph error, as a path. */
function graphLocation(text: string): string | undefined {
  const match = /\n\s*at (\S+:\d+:\d+)\s*$/.exec(text);
  return match === null ? undefined : displayName(match[1]);
}

/** `text` without its trailing `at …` location line. */
function withoutLocation(text: string): string {
  return text.replace(/\n\s*at \S+:\d+:\d+\s*$/, "");
}

function indent(lines: string[]): string {
  return lines.map((line) => `    ${line}`).join("\n");
}

/**
 * The message for an app module that failed to load: one line naming the app and the problem,
 * then what helps (the source excerpt of a syntax error, the first frames of an error thrown
 * while loading), indented.
 *
 * @example
 * ```ts ignore
 * try {
 *   await import(url);
 * } catch (error) {
 *   throw new AppError(describeLoadError(url, error));
 * }
 * ```
 */
export function describeLoadError(specifier: string, error: unknown): string {
  // `serve()` re-imports an app in its thread with a generation query; the user named no query.
  const where = displayName(specifier.replace(/\?starlight-generation=\d+$/, ""));
  if (!(error instanceof Error)) return `${where}: the app threw while loading: ${String(error)}`;
  const message = stripAnsi(error.message);
  const graph = (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND";
  if (!graph) {
    const hint = unstableHint(message);
    const frames = appFrames(stripAnsi(error.stack ?? "")).slice(0, LOAD_FRAMES);
    return [
      `${where}: the app threw while loading: ${error.name}: ${firstLine(message)}`,
      ...(hint === undefined ? [] : [`    (${hint})`]),
      ...(frames.length === 0 ? [] : [indent(frames)]),
    ].join("\n");
  }
  const notFound = /^Module not found "([^"]+)"\./.exec(message);
  if (notFound !== null) {
    const missing = notFound[1];
    if (missing.split("?")[0] === specifier.split("?")[0]) return `${where}: app file not found`;
    const at = graphLocation(message);
    return `${where}: cannot load the app: module not found: ${displayName(missing)}` +
      (at === undefined ? "" : ` (imported at ${at})`);
  }
  const at = graphLocation(message);
  const body = withoutLocation(message).split("\n");
  const summary = body[0];
  const rest = body.slice(1).map((line) => line.replace(/^\s*hint:\s*/, "hint: "));
  const unmapped = /^Import "([^"]+)" not a dependency/.exec(summary);
  if (unmapped !== null) {
    rest.push(
      "hint: Starlight applies the deno.json nearest above the app file (or --config FILE); " +
        `map "${unmapped[1]}" there (deno add), or import it with a full specifier`,
    );
  }
  return [
    `${where}: cannot load the app: ${at === undefined ? "" : `${at}: `}${summary}`,
    ...(rest.length === 0 ? [] : [indent(rest)]),
  ].join("\n");
}

function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i === -1 ? text : text.slice(0, i);
}
