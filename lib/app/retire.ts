/**
 * Harakiri: an app asks for its worker to be retired after the current response.
 *
 * The hook lives on `globalThis` under a registered symbol, so it works even when the app
 * imported a different copy of this package than the one running the worker.
 *
 * @module
 */

/**
 * Why a worker asks to be retired: its request limit was reached, or the app called
 * {@link retireWorker}.
 *
 * @example
 * ```ts
 * import type { RetireReason } from "./retire.ts";
 * const why: RetireReason = "request-limit";
 * ```
 */
export type RetireReason = "request-limit" | "app";

const hookKey = Symbol.for("starlight.retire");

type Hooked = typeof globalThis & { [hookKey]?: () => boolean | void };

/**
 * Installs what {@link retireWorker} calls (done by the worker at start). A hook returning
 * `false` says there is nothing to retire (serving in the main thread).
 */
export function setRetireHook(hook: () => boolean | void): void {
  (globalThis as Hooked)[hookKey] = hook;
}

/**
 * Asks Starlight to retire the worker running this code once the responses in flight are
 * sent: it stops accepting, a fresh worker replaces it, and it exits. Useful after a leak or a
 * fatal condition the app detects. Returns false when there is no worker to retire: not running
 * under Starlight, or serving in the main thread (`workers: 0`).
 *
 * @example
 * ```ts
 * import { retireWorker } from "@x/starlight";
 * export default {
 *   fetch(request: Request): Response {
 *     if (new URL(request.url).pathname === "/leaky") retireWorker();
 *     return new Response("bye");
 *   },
 * };
 * ```
 */
export function retireWorker(): boolean {
  const hook = (globalThis as Hooked)[hookKey];
  if (hook === undefined) return false;
  return hook() !== false;
}
