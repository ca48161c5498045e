/**
 * Loads the user's app module and turns whatever it exports into one handler and its
 * lifecycle hooks.
 *
 * @module
 */

import type { App, Handler } from "./contract.ts";
import { AppError, describeLoadError, displayName } from "./errors.ts";
import { type AppHooks, appHooks } from "./lifecycle.ts";

export { AppError, displayName };

/**
 * A loaded app: its handler and lifecycle hooks.
 *
 * @example
 * ```ts ignore
 * const { handler, hooks } = await loadApp("file:///srv/app.ts");
 * ```
 */
export interface LoadedApp {
  /** The request handler. */
  handler: Handler;
  /** `onListen` and `onStop`, where the default export has them. */
  hooks: AppHooks;
  /** The app as the user knows it (a path for local files), for messages. */
  where: string;
}

/**
 * Makes a handler of an app value: a function, or an object with a `fetch` method.
 *
 * @throws {AppError} for anything else.
 * @example
 * ```ts
 * import { toHandler } from "./load.ts";
 * const handler = toHandler({ fetch: () => new Response("hi") }, "app");
 * ```
 */
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

/**
 * An app value (a default export, or what `serve()` was given) as a {@link LoadedApp}.
 *
 * @throws {AppError} when it is neither a handler nor an object with `fetch`, or its hooks are
 * not functions.
 */
export function toLoadedApp(app: unknown, where: string): LoadedApp {
  return { handler: toHandler(app, where), hooks: appHooks(app, where), where };
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
 * Imports the app module at `specifier` (a URL) and returns its handler and hooks.
 *
 * @throws {AppError} whose first line names the app and what went wrong, in Deno's words
 * (see {@link describeLoadError}).
 * @example
 * ```ts ignore
 * const { handler } = await loadApp(new URL("./app.ts", import.meta.url).href);
 * ```
 */
export async function loadApp(specifier: string): Promise<LoadedApp> {
  let module: { default?: App };
  try {
    module = await importUrl(specifier);
  } catch (error) {
    throw new AppError(describeLoadError(specifier, error));
  }
  const where = displayName(specifier.replace(/\?starlight-generation=\d+$/, ""));
  if (!("default" in module)) {
    throw new AppError(
      `${where}: the module has no default export (export default { fetch(request) { … } })`,
    );
  }
  return toLoadedApp(module.default, where);
}
