/**
 * Starlight's own `upgradeWebSocket` under `--engine native`. It hands the connection to
 * Starlight's WebSocket code once the TypeScript engine has sent the `101`; Deno's engine owns
 * the connection instead and would send the placeholder response as a plain 200. So a worker on
 * the native engine marks its isolate, and the function throws a `TypeError` saying what to use
 * (the app's request then fails with a 500 and one log line). `Deno.upgradeWebSocket` works on
 * that engine as under `Deno.serve`.
 *
 * The mark is a registered symbol on `globalThis`, so it reaches an app that imported another
 * copy of this package.
 *
 * @module
 */

const nativeKey = Symbol.for("starlight.nativeEngine");

/**
 * Marks this isolate as served by Deno's engine (done by the native server's owner at start).
 *
 * @example
 * ```ts
 * import { markNativeEngine, starlightUpgradeRefusal } from "./websocket.ts";
 * markNativeEngine();
 * starlightUpgradeRefusal(); // "upgradeWebSocket from Starlight needs --engine ts; …"
 * ```
 */
export function markNativeEngine(): void {
  (globalThis as Record<symbol, unknown>)[nativeKey] = true;
}

/**
 * Why Starlight's `upgradeWebSocket` cannot run here, or undefined where it can.
 *
 * @example
 * ```ts
 * import { starlightUpgradeRefusal } from "./websocket.ts";
 * starlightUpgradeRefusal(); // undefined under the TypeScript engine
 * ```
 */
export function starlightUpgradeRefusal(): string | undefined {
  if ((globalThis as Record<symbol, unknown>)[nativeKey] !== true) return undefined;
  return "upgradeWebSocket from Starlight needs --engine ts; with --engine native use Deno.upgradeWebSocket";
}
