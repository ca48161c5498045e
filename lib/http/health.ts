/**
 * The health check the server answers itself (`--health-path`), never the app: which requests
 * are one, and what they are told. A balancer probes it to learn whether to send traffic here.
 *
 * @module
 */

/**
 * Whether a request is a health check of `path`: a GET or HEAD of exactly that path (any query
 * ignored), without a body. Anything else, say a POST to it, goes to the app as usual. `target`
 * is the request target as sent (origin form), or a URL's path and query.
 *
 * @example
 * ```ts
 * import { isHealthCheck } from "./health.ts";
 * isHealthCheck("GET", "/healthz?probe=1", false, "/healthz"); // true
 * isHealthCheck("POST", "/healthz", true, "/healthz"); // false
 * ```
 */
export function isHealthCheck(
  method: string,
  target: string,
  hasBody: boolean,
  path: string,
): boolean {
  if ((method !== "GET" && method !== "HEAD") || hasBody) return false;
  if (!target.startsWith(path)) return false;
  return target.length === path.length || target.charCodeAt(path.length) === 0x3f; // "?"
}

/**
 * The health answer: 200 `ok` while this server serves; 503 `draining` (with `Retry-After`)
 * once it is shutting down or waiting out `--shutdown-delay`. Never cached.
 *
 * @example
 * ```ts
 * import { healthResponse } from "./health.ts";
 * healthResponse(false).status; // 503
 * ```
 */
export function healthResponse(healthy: boolean): Response {
  return new Response(healthy ? "ok\n" : "draining\n", {
    status: healthy ? 200 : 503,
    headers: healthy
      ? { "content-type": "text/plain", "cache-control": "no-store" }
      : { "content-type": "text/plain", "cache-control": "no-store", "retry-after": "1" },
  });
}
