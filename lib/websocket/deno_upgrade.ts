/**
 * `Deno.upgradeWebSocket` for requests that Starlight's engine serves, so that an app written
 * for `deno serve` (and Hono's `upgradeWebSocket` from `hono/deno`, which calls it) upgrades
 * unchanged.
 *
 * Deno's own implementation only works on requests from `Deno.serve`: it ties the socket to
 * Deno's HTTP engine through the request's internal slots. On a request of Starlight's it
 * returns a `101` response that nothing acts on, so the client's handshake fails. The bridge
 * replaces the global with a function that hands requests of Starlight's engine to Starlight's
 * {@link starlightUpgrade} and every other request (an app that also runs `Deno.serve`) to the
 * original.
 *
 * @module
 */

import type { Handler } from "../app/contract.ts";
import { createRequest, type RequestState } from "../app/request.ts";
import { type UpgradableResponse, type Upgrade, upgradeKey } from "../engine/handoff.ts";
import { upgradeWebSocket as starlightUpgrade } from "./upgrade.ts";

/**
 * `Deno.upgradeWebSocket`'s default idle timeout, in seconds: Deno pings after 30 s without
 * traffic (below nginx's 60 s proxy timeout). Starlight's own `upgradeWebSocket` defaults to
 * 120; apps calling Deno's API get Deno's default.
 */
export const DENO_IDLE_TIMEOUT = 30;

/** Marks the installed bridge, so that installing twice keeps the first original. */
const bridgeKey = Symbol.for("starlight.denoUpgradeBridge");

/**
 * Every request the engine hands to the app inherits from one prototype (see
 * `lib/app/request.ts`); it is what tells the engine's requests from any other.
 */
const enginePrototype: object = Object.getPrototypeOf(createRequest({} as RequestState));

/**
 * Whether `request` is one that Starlight's engine built for the app (rather than one from
 * `Deno.serve`, `new Request()`, or a copy an app made).
 *
 * @example
 * ```ts
 * import { isEngineRequest } from "./deno_upgrade.ts";
 * isEngineRequest(new Request("http://localhost/")); // false
 * ```
 */
export function isEngineRequest(request: Request): boolean {
  return request !== null && typeof request === "object" &&
    Object.getPrototypeOf(request) === enginePrototype;
}

type DenoUpgrade = typeof Deno.upgradeWebSocket;

/**
 * The takeover of each request the bridge upgraded, until the engine runs it. Deno ties an
 * upgrade to the request, not to the response object: middleware may return a copy of the
 * `101` response (Hono does, `new Response(body, response)`, when a header is set after the
 * route answered), and Deno still upgrades. {@link adoptUpgrade} finds the takeover again from
 * the request.
 */
const pending = new WeakMap<Request, Upgrade["run"]>();

/**
 * Replaces `Deno.upgradeWebSocket` with the bridge. The worker calls it before loading the app;
 * installing again changes nothing. Returns the original implementation.
 *
 * The bridge accepts Deno's options (`protocol`, `idleTimeout`; Deno's default idle timeout)
 * and returns Deno's shape, `{ socket, response }`: the socket is a `StarlightWebSocket` (a
 * `WebSocket` in every observable way), the response has status 101, as Deno's has, and
 * carries the takeover the engine runs once it has sent it.
 *
 * @example
 * ```ts ignore
 * import { installDenoUpgradeBridge } from "./deno_upgrade.ts";
 * installDenoUpgradeBridge();
 * // From here on, in an app served by Starlight's engine:
 * const handler = (request: Request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   socket.onmessage = (event) => socket.send(event.data);
 *   return response;
 * };
 * ```
 */
export function installDenoUpgradeBridge(): DenoUpgrade {
  const current = Deno.upgradeWebSocket as DenoUpgrade & { [bridgeKey]?: DenoUpgrade };
  const installed = current[bridgeKey];
  if (installed !== undefined) return installed;
  const original = current;
  const bridge = function upgradeWebSocket(
    request: Request,
    options?: Deno.UpgradeWebSocketOptions,
  ): Deno.WebSocketUpgrade {
    if (!isEngineRequest(request)) return original(request, options);
    const { socket, response: placeholder } = starlightUpgrade(request, {
      protocol: options?.protocol,
      idleTimeout: options?.idleTimeout ?? DENO_IDLE_TIMEOUT,
    });
    const run = (placeholder as UpgradableResponse)[upgradeKey]!.run;
    pending.set(request, run);
    return { socket: socket as WebSocket, response: switching(placeholder.headers, run) };
  } as DenoUpgrade & { [bridgeKey]?: DenoUpgrade };
  bridge[bridgeKey] = original;
  Object.defineProperty(Deno, "upgradeWebSocket", {
    value: bridge,
    writable: true,
    configurable: true,
    enumerable: true,
  });
  return original;
}

/** A `101` response carrying `run`; the 200 placeholder where a runtime refuses status 101. */
function switching(headers: Headers, run: Upgrade["run"]): Response {
  let response: UpgradableResponse;
  try {
    response = new Response(null, { status: 101, headers });
  } catch {
    response = new Response(null, { status: 200, headers });
  }
  response[upgradeKey] = { headers: response.headers, run };
  return response;
}

/**
 * What the engine must send for `response`, the app's answer to `request`: when the app
 * upgraded `request` with `Deno.upgradeWebSocket` but returned a copy of the `101` response,
 * the copy is given the takeover (with the copy's headers, which may have more fields).
 * Any other response is returned as it is. Costs a status comparison for ordinary responses.
 *
 * @example
 * ```ts ignore
 * const upgraded = Deno.upgradeWebSocket(request);
 * const copy = new Response(null, upgraded.response); // what some middleware does
 * adoptUpgrade(request, copy); // copy, now carrying the upgrade
 * ```
 */
export function adoptUpgrade(request: Request, response: Response): Response {
  if (
    response instanceof Response && response.status === 101 &&
    (response as UpgradableResponse)[upgradeKey] === undefined
  ) {
    const run = pending.get(request);
    if (run !== undefined) {
      pending.delete(request);
      (response as UpgradableResponse)[upgradeKey] = { headers: response.headers, run };
    }
  }
  return response;
}

/**
 * Wraps the app's handler so that every response passes through {@link adoptUpgrade}. For an
 * engine that does not call `adoptUpgrade` itself; it costs a `then` per asynchronous response.
 *
 * @example
 * ```ts ignore
 * const handler = withDenoUpgrade(await loadApp(specifier));
 * ```
 */
export function withDenoUpgrade(handler: Handler): Handler {
  return (request, info) => {
    const result = handler(request, info);
    return result instanceof Promise
      ? result.then((response) => adoptUpgrade(request, response))
      : adoptUpgrade(request, result);
  };
}
