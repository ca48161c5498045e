/**
 * The `Request` the app receives, built lazily from a parsed head.
 *
 * Constructing a real `Request` (URL parsing, a `Headers` object, an abort signal) costs more
 * than everything else on the hot path, and most handlers read only `method`, `url` and a header
 * or two. So the object handed to the app inherits from `Request.prototype` and answers those
 * from the parsed head, and reads its body (`text()`, `json()`, `bytes()`, `arrayBuffer()`)
 * straight from the connection's body stream; the moment anything else is touched — `clone()`,
 * `formData()`, or Deno's own internals when the object is passed to `fetch()` or
 * `new Request()` — it builds the real `Request` once and delegates every internal slot to it.
 * `instanceof Request` holds throughout.
 *
 * @module
 */

import { fillHeaders, requestSlots } from "../deno/request_internals.ts";
import type { RequestHead } from "../http/head.ts";

/** The request body as the connection provides it. */
export interface RequestBody {
  /** The body as a stream; the same one on every call. */
  stream(): ReadableStream<Uint8Array>;
  /** The whole body in one array; rejects once anything read from the stream. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** The whole body at once if it is all buffered and untouched, else undefined. */
  takeBuffered(): Uint8Array<ArrayBuffer> | undefined;
  /** Something read from the body or cancelled it (the stream is disturbed). */
  readonly used: boolean;
}

/** The per-request state behind a lazy request; the connection keeps it to abort or inspect. */
export interface RequestState {
  /** The parsed head. */
  readonly head: RequestHead;
  /** `http` or `https`. */
  readonly scheme: string;
  /** Authority to use when the request has no Host (HTTP/1.0). */
  readonly fallbackHost: string;
  /** The body, or null when there is none. */
  readonly body: RequestBody | null;
  /** The full URL, once computed. */
  url: string | undefined;
  /** The headers, once built. */
  headers: Headers | undefined;
  /** The abort controller behind `signal`, once anyone asked for it. */
  abort: AbortController | undefined;
  /** The real `Request`, once anything beyond the fast fields was needed. */
  real: Request | undefined;
  /** The body was read by one of the lazy request's own body methods. */
  consumed: boolean;
}

const stateKey = Symbol("starlight.request");
type LazyRequest = Request & { [stateKey]: RequestState };

function urlOf(state: RequestState): string {
  if (state.url !== undefined) return state.url;
  const target = state.head.target;
  if (target.charCodeAt(0) === 47) {
    state.url = state.scheme + "://" + (state.head.host || state.fallbackHost) + target;
  } else if (target === "*") {
    state.url = state.scheme + "://" + (state.head.host || state.fallbackHost) + "/*";
  } else {
    state.url = target;
  }
  return state.url;
}

function headersOf(state: RequestState): Headers {
  if (state.real !== undefined) return state.real.headers;
  if (state.headers !== undefined) return state.headers;
  const headers = new Headers();
  fillHeaders(headers, state.head.names, state.head.values);
  return state.headers = headers;
}

function signalOf(state: RequestState): AbortSignal {
  return (state.abort ??= new AbortController()).signal;
}

function realOf(state: RequestState): Request {
  if (state.real !== undefined) return state.real;
  const method = state.head.method;
  // A body already read here cannot be handed on; `bodyUsed` and `clone()` still say so.
  const body = state.consumed ? null : bodyOf(state);
  const init: RequestInit & { duplex?: string } = {
    method,
    headers: headersOf(state),
    body,
    signal: signalOf(state),
  };
  if (body !== null) init.duplex = "half";
  return state.real = new Request(urlOf(state), init);
}

/** The request body, or null when it has none (GET and HEAD never have one). */
function sourceOf(state: RequestState): RequestBody | null {
  const method = state.head.method;
  return method === "GET" || method === "HEAD" ? null : state.body;
}

/** The body stream, or null when there is no body. */
function bodyOf(state: RequestState): ReadableStream<Uint8Array> | null {
  return sourceOf(state)?.stream() ?? null;
}

/**
 * The whole body, read from the connection: what `Request.prototype.bytes()` gives,
 * without building the real `Request` (its URL, `Headers`, signal and stream wrappers cost ten
 * times the rest of a small POST).
 */
async function bodyBytes(request: LazyRequest): Promise<Uint8Array<ArrayBuffer>> {
  const state = request[stateKey];
  if (state.real !== undefined) return await state.real.bytes();
  const source = sourceOf(state);
  // As with Deno's Request, a request without a body reads as empty as often as asked.
  if (source === null) return new Uint8Array(0);
  if (state.consumed) throw new TypeError("Body already consumed");
  state.consumed = true;
  return await source.bytes();
}

/**
 * The whole body without awaiting, when it is already buffered and nothing has read it yet;
 * undefined otherwise (then `bodyBytes` reads it, and reports a second read).
 */
function bufferedBytes(request: LazyRequest): Uint8Array<ArrayBuffer> | undefined {
  const state = request[stateKey];
  if (state.real !== undefined || state.consumed) return undefined;
  const bytes = sourceOf(state)?.takeBuffered();
  if (bytes !== undefined) state.consumed = true;
  return bytes;
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes));
}

/** Deno's `text()` keeps a leading byte order mark; so does this. */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const prototype: object = Object.create(Request.prototype, {
  method: {
    get(this: LazyRequest): string {
      return this[stateKey].head.method;
    },
  },
  url: {
    get(this: LazyRequest): string {
      return urlOf(this[stateKey]);
    },
  },
  headers: {
    get(this: LazyRequest): Headers {
      return headersOf(this[stateKey]);
    },
  },
  signal: {
    get(this: LazyRequest): AbortSignal {
      const state = this[stateKey];
      return state.real !== undefined ? state.real.signal : signalOf(state);
    },
  },
  body: {
    get(this: LazyRequest): ReadableStream<Uint8Array> | null {
      const state = this[stateKey];
      if (state.real !== undefined) return state.real.body;
      return bodyOf(state);
    },
  },
  bodyUsed: {
    get(this: LazyRequest): boolean {
      const state = this[stateKey];
      if (state.real !== undefined) return state.consumed || state.real.bodyUsed;
      return state.consumed || (sourceOf(state)?.used ?? false);
    },
  },
  bytes: {
    value(this: LazyRequest): Promise<Uint8Array<ArrayBuffer>> {
      return bodyBytes(this);
    },
  },
  arrayBuffer: {
    async value(this: LazyRequest): Promise<ArrayBuffer> {
      const bytes = await bodyBytes(this);
      return bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    },
  },
  text: {
    value(this: LazyRequest): Promise<string> {
      const bytes = bufferedBytes(this);
      if (bytes === undefined) return bodyBytes(this).then((bytes) => decoder.decode(bytes));
      return Promise.resolve(decoder.decode(bytes));
    },
  },
  json: {
    value(this: LazyRequest): Promise<unknown> {
      const bytes = bufferedBytes(this);
      if (bytes === undefined) return bodyBytes(this).then(parseJson);
      try {
        return Promise.resolve(parseJson(bytes));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  },
  clone: {
    value(this: LazyRequest): Request {
      if (this[stateKey].consumed) throw new TypeError("Body is unusable");
      return realOf(this[stateKey]).clone();
    },
  },
});

// Deno's Request methods and internals reach their data through symbol-keyed slots; forwarding
// each slot to the real Request makes every inherited method, brand check and `fetch(request)`
// work on the lazy object.
for (const slot of requestSlots()) {
  Object.defineProperty(prototype, slot, {
    get(this: LazyRequest): unknown {
      return (realOf(this[stateKey]) as unknown as Record<symbol, unknown>)[slot];
    },
    set(this: LazyRequest, value: unknown): void {
      (realOf(this[stateKey]) as unknown as Record<symbol, unknown>)[slot] = value;
    },
  });
}

/** Creates the lazy request for `state`. */
export function createRequest(state: RequestState): Request {
  const request = Object.create(prototype) as LazyRequest;
  request[stateKey] = state;
  return request;
}

/** Aborts the request's signal, if anyone could be listening to it. */
export function abortRequest(state: RequestState, reason: unknown): void {
  if (state.abort !== undefined) state.abort.abort(reason);
}
