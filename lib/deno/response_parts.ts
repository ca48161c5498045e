/**
 * Reads what the serialiser needs from a `Response` — its header list and, when the body is a
 * string or bytes given to the constructor, those bytes — without creating the body stream and
 * the reader, promises and iterator objects that come with it.
 *
 * This uses Deno's internal slots (the inner response behind `Symbol(response)` and the lazy
 * body of `Response.json()`). Their layout is checked once at start-up against responses built
 * here; if it ever differs, {@link readResponseParts} returns false and the connection uses the
 * portable path through `response.body` and `response.headers`.
 *
 * @module
 */

/** The parts of a response that were readable without streams. */
export interface ResponseParts {
  /** Header fields as the app set them (names in the app's case). */
  fields: [string, string][];
  /** A content type to write after `fields`: Deno keeps one that came alone outside them. */
  contentType: string | null;
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

/** The content type to write after the header list, if any. */
function extraType(slots: Slots, inner: InnerResponse): string | null {
  // Deno keeps a content type that came alone (or from a string or JSON body) in a slot of
  // its own instead of the header list; a lazy string body without one is text/plain.
  const stored = slots[lazyTypeKey!];
  const type = typeof stored === "string"
    ? stored
    : typeof slots[lazyBodyKey!] === "string"
    ? DEFAULT_TEXT_TYPE
    : null;
  if (type === null || hasField(inner.headerList, "content-type")) return null;
  return type;
}

/**
 * Checks the layout on responses of every shape this module handles: the fields it computes
 * must be exactly what `Headers` reports, and the bodies what was given.
 */
function layoutMatches(): boolean {
  if (innerKey === undefined || lazyBodyKey === undefined || lazyTypeKey === undefined) {
    return false;
  }
  const samples: [Response, string | null][] = [
    [new Response("ab", { headers: { "X-Probe": "1" } }), "ab"],
    [new Response("ab"), "ab"],
    [Response.json({ a: 1 }), '{"a":1}'],
    [new Response("ab", { headers: { "content-type": "a/b" } }), "ab"],
    [new Response(null, { status: 204, headers: { "content-type": "a/b" } }), null],
    [
      new Response(new Uint8Array([97, 98]), {
        headers: [["set-cookie", "a=1"], ["set-cookie", "b=2"]],
      }),
      "ab",
    ],
  ];
  for (const [response, body] of samples) {
    const slots = response as unknown as Slots;
    const inner = slots[innerKey] as InnerResponse | undefined;
    if (!inner || !Array.isArray(inner.headerList)) return false;
    const type = extraType(slots, inner);
    const fields = type === null ? inner.headerList : [...inner.headerList, ["content-type", type]];
    const ours = fields.map(([n, v]) => `${n.toLowerCase()}: ${v}`).sort();
    const theirs: string[] = [];
    response.headers.forEach((v, n) => {
      if (n !== "set-cookie") theirs.push(`${n}: ${v}`);
    });
    for (const cookie of response.headers.getSetCookie()) theirs.push(`set-cookie: ${cookie}`);
    if (ours.join("\n") !== theirs.sort().join("\n")) return false;
    const parts = partsOf(slots, inner);
    const got = parts === undefined
      ? undefined
      : typeof parts === "string"
      ? parts
      : parts === null
      ? null
      : new TextDecoder().decode(parts);
    if (got !== body) return false;
  }
  return true;
}

/** The static body, null for none, or undefined for a stream. */
function partsOf(slots: Slots, inner: InnerResponse): Uint8Array | string | null | undefined {
  const lazy = slots[lazyBodyKey!];
  if (typeof lazy === "string") return lazy;
  const body = inner.body;
  if (body === null) return null;
  const sos = body.streamOrStatic;
  if (sos instanceof ReadableStream) return undefined;
  if (sos.consumed || !(typeof sos.body === "string" || sos.body instanceof Uint8Array)) {
    return undefined;
  }
  return sos.body;
}

const enabled = layoutMatches();

/** Whether responses are read through Deno's internal slots (the fast path). */
export function responsePartsActive(): boolean {
  return enabled;
}

/**
 * Reads the header list and static body of `response` into `parts` (reused by the caller; the
 * list is the response's own, to be read before the response is dropped). Returns false when the
 * body is a stream, or the runtime's layout is not the one this was written for.
 */
export function readResponseParts(response: Response, parts: ResponseParts): boolean {
  if (!enabled) return false;
  const slots = response as unknown as Slots;
  const inner = slots[innerKey!] as InnerResponse;
  const body = partsOf(slots, inner);
  if (body === undefined) return false;
  parts.fields = inner.headerList;
  parts.contentType = extraType(slots, inner);
  parts.body = body;
  return true;
}

function hasField(fields: [string, string][], lower: string): boolean {
  for (const [name] of fields) {
    if (name.length === lower.length && name.toLowerCase() === lower) return true;
  }
  return false;
}
