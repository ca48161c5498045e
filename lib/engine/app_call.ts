/**
 * What the engine gives the app and takes back from it: the handler's `info` argument, the check
 * that what came back is a response that can be sent, and the responses the server sends
 * instead when the app fails.
 *
 * @module
 */

import type { ServeHandlerInfo } from "../app/contract.ts";
import { upgradeKey } from "./handoff.ts";

/**
 * The handler's `info`: `completed` costs nothing unless the app asks for it.
 *
 * @example
 * ```ts ignore
 * const completions: (() => void)[] = [];
 * const info = new HandlerInfo(conn.remoteAddr, completions, 1);
 * // ... once the response is written:
 * for (const resolve of completions.splice(0)) resolve();
 * ```
 */
export class HandlerInfo implements ServeHandlerInfo {
  /** The peer of the connection. */
  readonly remoteAddr: Deno.NetAddr | Deno.UnixAddr;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  readonly httpVersion: "HTTP/1.0" | "HTTP/1.1";
  #completions: (() => void)[];
  #completed: Promise<void> | undefined;

  /** `completions` is the connection's list, settled once the response is written. */
  constructor(
    remoteAddr: Deno.NetAddr | Deno.UnixAddr,
    completions: (() => void)[],
    minor: number,
  ) {
    this.remoteAddr = remoteAddr;
    this.httpVersion = minor === 0 ? "HTTP/1.0" : "HTTP/1.1";
    this.#completions = completions;
  }

  /** Settles when the response has been written, or the connection failed first. */
  get completed(): Promise<void> {
    return this.#completed ??= new Promise<void>((resolve) => this.#completions.push(resolve));
  }
}

/**
 * Why `value`, returned by the app, cannot be sent (it is not a `Response`, or is
 * `Response.error()`, which has no bytes to send), or null when it can.
 *
 * @example
 * ```ts
 * import { unsendable } from "./app_call.ts";
 * unsendable(new Response("ok")); // null
 * unsendable("ok")?.message; // "the app returned string instead of a Response"
 * ```
 */
export function unsendable(value: unknown): TypeError | null {
  if (!(value instanceof Response)) {
    return new TypeError(`the app returned ${describeValue(value)} instead of a Response`);
  }
  // Only a network error has status 0.
  if (value.status === 0) return new TypeError("the app returned Response.error()");
  // A 101 without the hand-off would leave the client believing the protocol switched.
  if (value.status === 101 && !(upgradeKey in value)) {
    return new TypeError(
      "the app returned a 101 response without upgrading the connection (use Deno.upgradeWebSocket)",
    );
  }
  return null;
}

/**
 * The 500 for an app that failed: plain text, with the stack trace only in development.
 *
 * @example
 * ```ts
 * import { failureResponse } from "./app_call.ts";
 * failureResponse(new Error("boom"), false).status; // 500
 * ```
 */
export function failureResponse(error: unknown, development: boolean): Response {
  const detail = development && error instanceof Error
    ? "\n\n" + (error.stack ?? String(error))
    : "";
  return new Response("Internal Server Error" + detail + "\n", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * The kind of a value, for a message: `null`, `undefined`, `string`, or `an object (…)`.
 *
 * @example
 * ```ts
 * import { describeValue } from "./app_call.ts";
 * describeValue({}); // "an object ([object Object])"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value;
}

/**
 * The message the engine passes to its `warn` hook when the app throws or rejects: the method
 * and the path, without the query string (which may carry tokens; the access log has it).
 *
 * @example
 * ```ts
 * import { appFailureMessage } from "./app_call.ts";
 * appFailureMessage("GET", "/users/7?token=x"); // "the app failed on GET /users/7"
 * ```
 */
export function appFailureMessage(method: string, target: string): string {
  const query = target.indexOf("?");
  return `the app failed on ${method} ${query === -1 ? target : target.slice(0, query)}`;
}
