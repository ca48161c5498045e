/**
 * Loads the user's app module and turns whatever it exports into one handler.
 *
 * @module
 */

import type { App, Handler } from "./contract.ts";

/** The app could not be loaded; the message is one line naming the module and the problem. */
export class AppError extends Error {
  override name = "AppError";
}

/** Makes a handler of an app value: a function, or an object with a `fetch` method. */
export function toHandler(app: unknown, where: string): Handler {
  if (typeof app === "function") return app as Handler;
  if (
    app !== null && typeof app === "object" &&
    typeof (app as { fetch?: unknown }).fetch === "function"
  ) {
    const object = app as { fetch: Handler };
    return (request, info) => object.fetch(request, info);
  }
  throw new AppError(
    `${where}: the default export must be a function (request, info) => Response or an object with a fetch method, not ${
      app === undefined ? "undefined" : app === null ? "null" : typeof app
    }`,
  );
}

/** Shows a module URL as the user gave it: a path for local files. */
export function displayName(specifier: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  try {
    return decodeURIComponent(new URL(specifier).pathname);
  } catch {
    return specifier;
  }
}

/**
 * `import(specifier)` for a specifier known only at run time. It is always an absolute URL
 * (`resolveOptions` makes it so), so it needs no import map or referrer; going through a
 * function made at run time keeps `deno publish` from warning that it cannot analyse it.
 */
const importUrl = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<{ default?: App }>;

/**
 * Imports the app module at `specifier` (a URL) and returns its handler.
 *
 * @example
 * ```ts ignore
 * const handler = await loadApp(new URL("./load.ts", import.meta.url).href);
 * ```
 */
export async function loadApp(specifier: string): Promise<Handler> {
  const where = displayName(specifier);
  let module: { default?: App };
  try {
    module = await importUrl(specifier);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (
      /Module not found|No such file|cannot find|not found/i.test(message) &&
      specifier.startsWith("file:")
    ) {
      throw new AppError(`${where}: app file not found`);
    }
    throw new AppError(`${where}: cannot load the app: ${firstLine(message)}`);
  }
  if (!("default" in module)) {
    throw new AppError(
      `${where}: the module has no default export (export default { fetch(request) { … } })`,
    );
  }
  return toHandler(module.default, where);
}

function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i === -1 ? text : text.slice(0, i);
}
