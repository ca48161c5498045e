/**
 * The start-up report of Deno internals in use. Each internal is probed once when its module
 * loads, and each falls back to the public API when the probe fails; this says which are active,
 * so a fallback (a Deno upgrade that changed a layout) is logged instead of only costing speed.
 *
 * @module
 */

import { requestHeadersActive } from "./request_internals.ts";
import { responsePartsActive } from "./response_parts.ts";
import { loadBalancedActive } from "./shared_listen.ts";
import { socketReadActive } from "./socket_read.ts";
import { socketWriteActive } from "./socket_write.ts";

/** Which fast paths through Deno internals are active. */
export interface FastPaths {
  /** Socket reads call Deno's read op directly (`socket_read.ts`). */
  readonly socketRead: boolean;
  /** Socket writes call Deno's write op directly (`socket_write.ts`). */
  readonly socketWrite: boolean;
  /** Responses are read from their internal slots without streams (`response_parts.ts`). */
  readonly responseParts: boolean;
  /** Request headers fill Deno's internal header list (`request_internals.ts`). */
  readonly requestHeaders: boolean;
  /** `Deno.listen` honours `loadBalanced` (`shared_listen.ts`). */
  readonly loadBalanced: boolean;
}

/**
 * Which fast paths are active now.
 *
 * @example
 * ```ts
 * import { fastPaths } from "./fast_paths.ts";
 * const report = fastPaths();
 * Object.values(report).every(Boolean); // true on the Deno version the project pins
 * ```
 */
export function fastPaths(): FastPaths {
  return {
    socketRead: socketReadActive(),
    socketWrite: socketWriteActive(),
    responseParts: responsePartsActive(),
    requestHeaders: requestHeadersActive(),
    loadBalanced: loadBalancedActive(),
  };
}

/**
 * A one-line warning naming the fast paths that fell back to the public API, or undefined when
 * all are active.
 *
 * @example
 * ```ts
 * import { fallbackWarning } from "./fast_paths.ts";
 * fallbackWarning({
 *   socketRead: true,
 *   socketWrite: true,
 *   responseParts: false,
 *   requestHeaders: true,
 *   loadBalanced: true,
 * });
 * // "Deno internals changed: responseParts uses the public API (slower); ..."
 * ```
 */
export function fallbackWarning(report: FastPaths): string | undefined {
  const off = Object.entries(report).filter(([, active]) => !active).map(([name]) => name);
  if (off.length === 0) return undefined;
  return `Deno internals changed: ${off.join(", ")} ${
    off.length === 1 ? "uses" : "use"
  } the public API (slower); Deno ${Deno.version.deno} is not the version this Starlight was checked on`;
}
