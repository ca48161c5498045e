/**
 * Deno's `Headers` and `Request` internals that the lazy request (`lib/app/request.ts`) uses.
 *
 * - `Headers` keeps its fields in an internal `[name, value]` list. The parser has already
 *   validated every name and value, so filling that list directly skips `append`'s second
 *   validation — a third of the cost of a request that reads its headers. The layout is checked
 *   once here; if it differs, {@link fillHeaders} uses `append`.
 * - `Request` methods and internals reach their data through symbol-keyed slots; forwarding each
 *   slot of a real `Request` makes every inherited method, brand check and `fetch(request)` work
 *   on the lazy object. {@link requestSlots} lists them (none on a runtime without such slots,
 *   where the lazy request still answers its own fields).
 *
 * @module
 */

const headerListKey = Object.getOwnPropertySymbols(new Headers()).find((s) =>
  s.description === "header list"
);

function headerListWorks(): boolean {
  if (headerListKey === undefined) return false;
  const probe = new Headers();
  const list = (probe as unknown as Record<symbol, unknown>)[headerListKey];
  if (!Array.isArray(list) || list.length !== 0) return false;
  list.push(["x-probe", "1"], ["x-probe", "2"], ["set-cookie", "a=1"]);
  return probe.get("X-Probe") === "1, 2" && probe.getSetCookie()[0] === "a=1" &&
    probe.has("x-probe");
}

const fillHeaderList = headerListWorks();

/** Whether {@link fillHeaders} fills Deno's internal list directly (the fast path). */
export function requestHeadersActive(): boolean {
  return fillHeaderList;
}

/**
 * Adds the already validated fields `names[i]: values[i]` to the empty `headers`.
 *
 * @example
 * ```ts
 * import { fillHeaders } from "./request_internals.ts";
 * const headers = new Headers();
 * fillHeaders(headers, ["host"], ["example.com"]);
 * headers.get("Host"); // "example.com"
 * ```
 */
export function fillHeaders(headers: Headers, names: string[], values: string[]): void {
  if (fillHeaderList) {
    const list = (headers as unknown as Record<symbol, [string, string][]>)[headerListKey!];
    for (let i = 0; i < names.length; i++) list.push([names[i], values[i]]);
  } else {
    for (let i = 0; i < names.length; i++) headers.append(names[i], values[i]);
  }
}

const slots = Object.getOwnPropertySymbols(new Request("http://localhost/"));

/**
 * The internal slots of a Deno `Request`, to forward from a stand-in to a real one.
 *
 * @example
 * ```ts
 * import { requestSlots } from "./request_internals.ts";
 * requestSlots().length > 0; // true on Deno 2.9
 * ```
 */
export function requestSlots(): readonly symbol[] {
  return slots;
}
