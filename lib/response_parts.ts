/**
 * Reads what the serialiser needs from a `Response` — its header list and, when the body is a
 * string or bytes given to the constructor, those bytes — without creating the body stream and
 * the reader, promises and iterator objects that come with it.
 *
 * This uses Deno's internal slots (the inner response behind `Symbol(response)` and the lazy
 * body of `Response.json()`). Their layout is checked once at start-up against responses built
 * here; if it ever differs, {@link responseParts} returns undefined and the connection uses the
 * portable path through `response.body` and `response.headers`.
 *
 * @module
 */

/** The parts of a response that were readable without streams. */
export interface ResponseParts {
  /** Header fields as the app set them (names in the app's case; `Set-Cookie` kept apart). */
  fields: [string, string][];
  /** The whole body (a string still to be UTF-8 encoded), or null for no body. */
  body: Uint8Array | string | null;
}

interface InnerBody {
  streamOrStatic: ReadableStream | { body: Uint8Array | string; consumed: boolean };
  source: unknown;
}
interface InnerResponse {
  headerList: [string, string][];
  body: InnerBody | null;
}

type Slots = Record<symbol, unknown>;

/** What a lazy string body's content type is when none is stored (as Deno applies it). */
const DEFAULT_TEXT_TYPE = "text/plain;charset=UTF-8";

function slot(sample: Response, name: string): symbol | undefined {
  return Object.getOwnPropertySymbols(sample).find((s) => s.description === name);
}

const probe = new Response("ab", { headers: { "X-Probe": "1" } });
const innerKey = slot(probe, "response");
const lazyBodyKey = slot(probe, "lazy static body");
const lazyTypeKey = slot(probe, "lazy static content type");

function layoutMatches(): boolean {
  if (innerKey === undefined || lazyBodyKey === undefined || lazyTypeKey === undefined) {
    return false;
  }
  const inner = (probe as unknown as Slots)[innerKey] as InnerResponse | undefined;
  if (!inner || !Array.isArray(inner.headerList) || inner.body === null) return false;
  const first = inner.headerList[0];
  if (!Array.isArray(first) || first[0].toLowerCase() !== "x-probe" || first[1] !== "1") {
    return false;
  }
  const sos = inner.body.streamOrStatic as { body?: unknown; consumed?: unknown };
  if (sos.body !== "ab" || sos.consumed !== false) return false;
  const json = Response.json({ a: 1 });
  const lazy = (json as unknown as Slots)[lazyBodyKey];
  const innerJson = (json as unknown as Slots)[innerKey] as InnerResponse;
  if (typeof lazy !== "string" || innerJson.body !== null) return false;
  if ((json as unknown as Slots)[lazyTypeKey] !== "application/json") return false;
  const text = new Response("ab");
  if (
    (text as unknown as Slots)[lazyBodyKey] !== "ab" ||
    (text as unknown as Slots)[lazyTypeKey] !== null
  ) return false;
  return text.headers.get("content-type") === DEFAULT_TEXT_TYPE;
}

const enabled = layoutMatches();

/**
 * The header list and static body of `response`, or undefined when its body is a stream (or
 * the runtime's layout is not the one this was written for).
 */
export function responseParts(response: Response): ResponseParts | undefined {
  if (!enabled) return undefined;
  const slots = response as unknown as Slots;
  const inner = slots[innerKey!] as InnerResponse;
  const lazy = slots[lazyBodyKey!];
  if (typeof lazy === "string") {
    const stored = slots[lazyTypeKey!];
    const type = typeof stored === "string" ? stored : DEFAULT_TEXT_TYPE;
    const fields = hasField(inner.headerList, "content-type")
      ? inner.headerList
      : [...inner.headerList, ["content-type", type] as [string, string]];
    return { fields, body: lazy };
  }
  const body = inner.body;
  if (body === null) return { fields: inner.headerList, body: null };
  const sos = body.streamOrStatic;
  if (sos instanceof ReadableStream) return undefined;
  if (sos.consumed || !(typeof sos.body === "string" || sos.body instanceof Uint8Array)) {
    return undefined;
  }
  return { fields: inner.headerList, body: sos.body };
}

function hasField(fields: [string, string][], lower: string): boolean {
  for (const [name] of fields) {
    if (name.length === lower.length && name.toLowerCase() === lower) return true;
  }
  return false;
}
