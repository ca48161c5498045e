/**
 * WebSockets under `--engine native`: neither upgrade works, and each says so.
 *
 * - Starlight's own `upgradeWebSocket` hands the connection to Starlight's WebSocket code once
 *   the TypeScript engine has sent the `101`; Deno's engine owns the connection instead and
 *   would send the placeholder response as a plain 200.
 * - `Deno.upgradeWebSocket` needs Deno's server to outlive the upgrade. Served one connection
 *   at a time (`serveHttpOnConnection`), Deno's server ends when its only connection is handed
 *   to the WebSocket, and ending closes every WebSocket it upgraded (`op_http_close` in Deno
 *   2.9): the client sees the `101`, then the connection closes.
 *
 * So a worker on the native engine marks its isolate: both functions then throw a `TypeError`
 * saying to use `--engine ts` (the request fails with a 500 and one log line). The mark is a
 * registered symbol on `globalThis`, so it reaches an app that imported another copy of this
 * package.
 *
 * @module
 */

const nativeKey = Symbol.for("starlight.nativeEngine");

const DENO_REFUSAL = "Deno.upgradeWebSocket does not work with --engine native " +
  "(Deno's engine, serving one connection, closes the WebSocket at the upgrade); use --engine ts";

/**
 * Marks this isolate as served by Deno's engine, and makes `Deno.upgradeWebSocket` throw
 * (done by the native server's owner at start).
 *
 * @example
 * ```ts ignore
 * import { markNativeEngine, starlightUpgradeRefusal } from "./websocket.ts";
 * markNativeEngine();
 * starlightUpgradeRefusal(); // "upgradeWebSocket from Starlight needs --engine ts"
 * ```
 */
export function markNativeEngine(): void {
  (globalThis as Record<symbol, unknown>)[nativeKey] = true;
  Object.defineProperty(Deno, "upgradeWebSocket", {
    value: function upgradeWebSocket(): never {
      throw new TypeError(DENO_REFUSAL);
    },
    writable: true,
    configurable: true,
    enumerable: true,
  });
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
  return "upgradeWebSocket from Starlight needs --engine ts (Deno's engine owns the connection)";
}
