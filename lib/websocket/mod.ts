/**
 * WebSocket for Starlight: {@link upgradeWebSocket} mirrors `Deno.upgradeWebSocket` on
 * Starlight's own HTTP/1.1 engine, with permessage-deflate.
 *
 * @example An echo server
 * ```ts
 * import { upgradeWebSocket } from "@x/starlight";
 * const handler = (request: Request): Response => {
 *   const { socket, response } = upgradeWebSocket(request);
 *   socket.onmessage = (event) => socket.send(event.data);
 *   return response;
 * };
 * ```
 *
 * @module
 */

export { websocketHandshakeError } from "./handshake.ts";
export { StarlightWebSocket } from "./socket.ts";
export {
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  type WebSocketUpgrade,
} from "./upgrade.ts";
