/**
 * The package version, as `--version` and the default `Server` header show it;
 * `tests/package_test.ts` keeps it equal to `deno.json`'s.
 *
 * @example
 * ```ts
 * import { VERSION } from "@x/starlight";
 * console.log(`running Starlight ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
