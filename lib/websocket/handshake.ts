/**
 * The server's side of the opening handshake (RFC 6455 §4.2): which requests qualify, the
 * `Sec-WebSocket-Accept` value, and the error response for those that do not.
 *
 * @module
 */

import { sha1 } from "./sha1.ts";

/** The GUID every `Sec-WebSocket-Accept` is derived with (RFC 6455 §1.3). */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Base64 of exactly 16 bytes: 22 characters then `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why a request cannot be upgraded, and the status that says so. */
export interface HandshakeProblem {
  /** 400, or 426 for a missing or unsupported `Sec-WebSocket-Version`. */
  readonly status: 400 | 426;
  /** A message in the style of `Deno.upgradeWebSocket`'s errors. */
  readonly message: string;
}

/**
 * Checks that `request` is a valid WebSocket opening handshake, or says why not.
 *
 * @example
 * ```ts
 * import { checkHandshake } from "./handshake.ts";
 * checkHandshake(new Request("http://localhost/")); // { status: 400, message: "…upgrade…" }
 * ```
 */
export function checkHandshake(request: Request): HandshakeProblem | null {
  const headers = request.headers;
  if (request.method !== "GET") {
    return { status: 400, message: "Invalid method: a WebSocket handshake must be a GET" };
  }
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    return { status: 400, message: "Invalid Header: 'upgrade' header must contain 'websocket'" };
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return { status: 400, message: "Invalid Header: 'connection' header must contain 'Upgrade'" };
  }
  if (headers.get("sec-websocket-version") !== "13") {
    return { status: 426, message: "Invalid Header: 'sec-websocket-version' must be '13'" };
  }
  if (!KEY.test(headers.get("sec-websocket-key") ?? "")) {
    return {
      status: 400,
      message: "Invalid Header: 'sec-websocket-key' must be the base64 of 16 bytes",
    };
  }
  return null;
}

/**
 * The response to send instead of upgrading when `request` is not a valid handshake: 400, or
 * 426 with `Sec-WebSocket-Version: 13` when the version is missing or unsupported. `null` when
 * the request is fine and `upgradeWebSocket` will accept it.
 *
 * @example Refusing bad handshakes before upgrading
 * ```ts
 * import { upgradeWebSocket, websocketHandshakeError } from "@x/starlight";
 * const handler = (request: Request): Response => {
 *   const refusal = websocketHandshakeError(request);
 *   if (refusal) return refusal;
 *   const { socket, response } = upgradeWebSocket(request);
 *   socket.onmessage = (event) => socket.send(event.data);
 *   return response;
 * };
 * ```
 */
export function websocketHandshakeError(request: Request): Response | null {
  const problem = checkHandshake(request);
  if (!problem) return null;
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
  if (problem.status === 426) {
    // RFC 6455 §4.4 lists the versions we speak; RFC 9110 §15.5.22 wants Upgrade on a 426.
    headers.set("sec-websocket-version", "13");
    headers.set("upgrade", "websocket");
    headers.set("connection", "Upgrade");
  }
  return new Response(problem.message, { status: problem.status, headers });
}

/**
 * The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
 *
 * @example The example of RFC 6455 §1.3
 * ```ts
 * import { acceptKey } from "./handshake.ts";
 * acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptKey(key: string): string {
  const digest = sha1(new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...digest));
}

/**
 * The subprotocols a client offered in `Sec-WebSocket-Protocol`, in its order of preference.
 *
 * @example
 * ```ts
 * import { offeredProtocols } from "./handshake.ts";
 * const request = new Request("http://localhost/", {
 *   headers: { "sec-websocket-protocol": "chat, superchat" },
 * });
 * offeredProtocols(request); // ["chat", "superchat"]
 * ```
 */
export function offeredProtocols(request: Request): string[] {
  return splitList(request.headers.get("sec-websocket-protocol"));
}

function hasToken(value: string | null, token: string): boolean {
  return splitList(value).some((item) => item.toLowerCase() === token);
}

function splitList(value: string | null): string[] {
  return (value ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
}
