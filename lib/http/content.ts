/**
 * Which responses carry content (RFC 9110 §6.4.1, RFC 9112 §6.3): the one place that knows the
 * statuses and the method whose responses never have a body, and which of them may still say
 * how long that body would have been.
 *
 * @module
 */

/**
 * Whether a response with `status` has content, whatever the request: never for 1xx
 * (RFC 9110 §15.2), 204 (§15.3.5) or 304 (§15.4.5).
 *
 * @example
 * ```ts
 * import { statusHasContent } from "./content.ts";
 * statusHasContent(200); // true
 * statusHasContent(304); // false
 * ```
 */
export function statusHasContent(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/**
 * Whether the bytes of a response body follow its head on the wire: the status allows content
 * and the request method was not HEAD (RFC 9112 §6.3, rule 1).
 *
 * @example
 * ```ts
 * import { responseHasContent } from "./content.ts";
 * responseHasContent(200, false); // true
 * responseHasContent(200, true); // false: a HEAD gets the head only, with the GET's length
 * ```
 */
export function responseHasContent(status: number, headRequest: boolean): boolean {
  return !headRequest && statusHasContent(status);
}

/**
 * Whether a response with `status` may send Content-Length at all: never in a 1xx or 204
 * (RFC 9110 §8.6). A 304 may, saying the length the 200 would have had.
 *
 * @example
 * ```ts
 * import { statusMayDeclareLength } from "./content.ts";
 * statusMayDeclareLength(204); // false
 * statusMayDeclareLength(304); // true
 * ```
 */
export function statusMayDeclareLength(status: number): boolean {
  return status >= 200 && status !== 204;
}
