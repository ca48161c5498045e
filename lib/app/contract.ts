/**
 * The app contract: what Starlight calls for each request.
 *
 * @module
 */

/**
 * Where a request came from, as `Deno.ServeHandlerInfo["remoteAddr"]`: a TCP peer, or a UNIX
 * socket for a server listening on one.
 *
 * @example Naming the client
 * ```ts
 * import type { RemoteAddr } from "@x/starlight";
 * const client = (addr: RemoteAddr): string =>
 *   addr.transport === "tcp" || addr.transport === "udp" ? addr.hostname : "a local socket";
 * ```
 */
export type RemoteAddr = Deno.NetAddr | Deno.UnixAddr;

/**
 * The second argument of a handler, shaped like `Deno.ServeHandlerInfo`.
 *
 * @example Reading the client address
 * ```ts
 * import type { ServeHandlerInfo } from "@x/starlight";
 * const handler = (_req: Request, info: ServeHandlerInfo) =>
 *   new Response(info.remoteAddr.transport);
 * ```
 */
export interface ServeHandlerInfo {
  /** The peer of the connection the request arrived on. */
  readonly remoteAddr: RemoteAddr;
  /** Settles when the response has been fully written, or when the connection failed first. */
  readonly completed: Promise<void>;
  /**
   * The request's protocol version, `HTTP/1.0` or `HTTP/1.1` (a Starlight extension: a fetch
   * `Request` cannot say it, and CGI-style adapters need it as `SERVER_PROTOCOL`).
   */
  readonly httpVersion?: "HTTP/1.0" | "HTTP/1.1";
}

/**
 * A fetch-style request handler.
 *
 * @example
 * ```ts
 * import type { Handler } from "@x/starlight";
 * const hello: Handler = () => new Response("hello");
 * ```
 */
export type Handler = (
  request: Request,
  info: ServeHandlerInfo,
) => Response | Promise<Response>;

/**
 * What an app module may default-export: a handler function, or any object with a `fetch`
 * method (the `deno serve` convention; a Hono app is one).
 *
 * @example
 * ```ts
 * import type { App } from "@x/starlight";
 * export default { fetch: () => new Response("hi") } satisfies App;
 * ```
 */
export type App = Handler | { fetch: Handler };
