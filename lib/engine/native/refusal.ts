/**
 * What `--engine native` cannot be combined with, refused at start-up in one line naming the
 * problem, before anything listens.
 *
 * @module
 */

import { nativeServeProblem } from "../../deno/serve_http.ts";
import { OptionError, type ResolvedOptions } from "../../options/mod.ts";

/**
 * Why `options` cannot run on Deno's engine, in one line; undefined when they can (or when the
 * TypeScript engine was chosen).
 *
 * @example
 * ```ts ignore
 * import { nativeRefusal } from "./refusal.ts";
 * nativeRefusal(resolveOptions({ app: "./app.ts", engine: "native", workers: 0, ssl: true, … }));
 * // "--engine native: --ssl needs workers (…)"
 * ```
 */
export function nativeRefusal(options: ResolvedOptions): string | undefined {
  if (options.engine !== "native") return undefined;
  const runtime = nativeServeProblem();
  if (runtime !== undefined) return runtime;
  if (options.ssl && options.workers === 0) {
    // In the main thread TLS runs in node:tls, whose connections Deno's engine cannot take;
    // with workers the TLS fronts terminate it and relay plaintext, which it can.
    return "--engine native: --ssl needs workers (TLS is then terminated by the TLS fronts); " +
      "use --workers 1 or more, or --engine ts";
  }
  return undefined;
}

/**
 * Throws the {@link nativeRefusal} of `options` as an `OptionError` of `--engine`.
 *
 * @example
 * ```ts ignore
 * import { refuseNative } from "./refusal.ts";
 * refuseNative(resolved); // throws for --engine native where it cannot run
 * ```
 */
export function refuseNative(options: ResolvedOptions): void {
  const refusal = nativeRefusal(options);
  if (refusal !== undefined) throw new OptionError("--engine", refusal);
}
