/**
 * `upgradeWebSocket`: the Starlight counterpart of `Deno.upgradeWebSocket`.
 *
 * @module
 */

import { type UpgradableResponse, upgradeKey } from "../engine/handoff.ts";
import { starlightUpgradeRefusal } from "../engine/native/websocket.ts";
import { runConnection } from "./connection.ts";
import { negotiateDeflate } from "./deflate_negotiation.ts";
import { acceptKey, checkHandshake, offeredProtocols } from "./handshake.ts";
import { createSocket, type StarlightWebSocket } from "./socket.ts";

/**
 * Options of {@link upgradeWebSocket}, those of `Deno.upgradeWebSocket` plus `maxMessageSize`.
 *
 * @example
 * ```ts
 * import type { UpgradeWebSocketOptions } from "@x/starlight";
 * const options: UpgradeWebSocketOptions = { protocol: "chat", idleTimeout: 30 };
 * ```
 */
export interface UpgradeWebSocketOptions {
  /**
   * The subprotocol to accept; it must be one the client offered in `Sec-WebSocket-Protocol`,
   * else `upgradeWebSocket` throws a `TypeError`.
   */
  protocol?: string;
  /**
   * Seconds without receiving anything before the server pings the client; if another such
   * period passes without anything received either, the connection is closed with 1001 (after
   * an `error` event). Defaults to 120; 0 disables.
   */
  idleTimeout?: number;
  /**
   * The largest message accepted, in bytes (both as received and once decompressed); a larger
   * one closes the connection with 1009. Defaults to 64 MiB.
   */
  maxMessageSize?: number;
}

/**
 * What {@link upgradeWebSocket} returns.
 *
 * @example
 * ```ts
 * import { upgradeWebSocket, type WebSocketUpgrade } from "@x/starlight";
 * const handler = (request: Request): Response => {
 *   const upgrade: WebSocketUpgrade = upgradeWebSocket(request);
 *   return upgrade.response;
 * };
 * ```
 */
export interface WebSocketUpgrade {
  /** The response the handler must return, unchanged (headers may be added). */
  response: Response;
  /** The socket; it opens once the response is sent. */
  socket: StarlightWebSocket;
}

const DEFAULT_IDLE_TIMEOUT = 120;
const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Where the server puts `--max-ws-message`, shared by every copy of this module. */
const serverLimitKey = Symbol.for("starlight.maxWsMessage");

/** Sets the message limit used when the app passes no `maxMessageSize` (the `--max-ws-message` option). */
export function setDefaultMaxMessageSize(bytes: number): void {
  (globalThis as Record<symbol, unknown>)[serverLimitKey] = bytes;
}

function defaultMaxMessageSize(): number {
  const limit = (globalThis as Record<symbol, unknown>)[serverLimitKey];
  return typeof limit === "number" && Number.isSafeInteger(limit) && limit > 0
    ? limit
    : DEFAULT_MAX_MESSAGE_SIZE;
}

/**
 * Accepts a WebSocket handshake, like `Deno.upgradeWebSocket`: returns the socket and the
 * response to return from the handler. The socket fires `open` once Starlight has sent the
 * `101 Switching Protocols` and handed the connection over. `permessage-deflate` is accepted
 * when the client offers it.
 *
 * The response has status 200 as a placeholder (a `Response` cannot be built with 101);
 * Starlight recognises it and sends `101` with its headers, including any the app added.
 *
 * @throws {TypeError} When `request` is not a valid WebSocket handshake (see
 * `websocketHandshakeError` for answering those), `options.protocol` was not offered, or the
 * server runs `--engine native` (use `Deno.upgradeWebSocket` there).
 * @throws {RangeError} When `idleTimeout` or `maxMessageSize` is out of range.
 *
 * @example A chat room
 * ```ts
 * import { upgradeWebSocket } from "@x/starlight";
 * const room = new Set<WebSocket>();
 * const handler = (request: Request): Response => {
 *   const { socket, response } = upgradeWebSocket(request, { idleTimeout: 60 });
 *   socket.onopen = () => room.add(socket);
 *   socket.onmessage = (event) => room.forEach((peer) => peer.send(event.data));
 *   socket.onclose = () => room.delete(socket);
 *   return response;
 * };
 * ```
 */
export function upgradeWebSocket(
  request: Request,
  options: UpgradeWebSocketOptions = {},
): WebSocketUpgrade {
  const native = starlightUpgradeRefusal();
  if (native !== undefined) throw new TypeError(native);
  const problem = checkHandshake(request);
  if (problem) throw new TypeError(problem.message);
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  if (!(Number.isFinite(idleTimeout) && idleTimeout >= 0)) {
    throw new RangeError(`idleTimeout must be a number of seconds >= 0, got ${idleTimeout}`);
  }
  const maxMessageSize = options.maxMessageSize ?? defaultMaxMessageSize();
  if (!(Number.isSafeInteger(maxMessageSize) && maxMessageSize > 0)) {
    throw new RangeError(`maxMessageSize must be a positive integer, got ${maxMessageSize}`);
  }
  const protocol = options.protocol ?? "";
  if (protocol !== "" && !offeredProtocols(request).includes(protocol)) {
    throw new TypeError(
      `Protocol '${protocol}' not in the request's protocol list (non negotiable)`,
    );
  }
  const deflate = negotiateDeflate(request.headers.get("sec-websocket-extensions"));

  const headers = new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-accept": acceptKey(request.headers.get("sec-websocket-key")!),
  });
  if (protocol !== "") headers.set("sec-websocket-protocol", protocol);
  if (deflate) headers.set("sec-websocket-extensions", deflate.header);
  const response: UpgradableResponse = new Response(null, { status: 200, headers });

  const url = new URL(request.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const { socket, driver } = createSocket({
    url: url.href,
    protocol,
    extensions: deflate?.header ?? "",
  });
  response[upgradeKey] = {
    // The response's own headers, so that headers added by the app or middleware go out too.
    headers: response.headers,
    run: (conn, head, drain) =>
      runConnection(conn, head, drain, driver, {
        maxMessageSize,
        idleTimeout,
        deflate: deflate?.params,
      }),
  };
  return { socket, response };
}
