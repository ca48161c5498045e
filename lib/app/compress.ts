/**
 * `--compress`: a handler wrapper that compresses responses with the runtime's
 * `CompressionStream` when the client accepts it, by the rules of `lib/http/compression.ts`.
 *
 * A body given whole (a string or bytes) is compressed whole and sent with its new length; a
 * stream is compressed as it flows. Protocol switches (WebSocket) and responses whose body was
 * already read pass through untouched.
 *
 * @module
 */

import type { Handler } from "./contract.ts";
import {
  addVary,
  type Coding,
  compressionPlan,
  DEFAULT_MIN_SIZE,
  encodedHeaders,
} from "../http/compression.ts";
import { readResponseParts, type ResponseParts } from "../deno/response_parts.ts";
import { upgradeKey } from "../engine/handoff.ts";
import { utf8Length } from "../http/utf8_length.ts";

/** Options of {@link withCompression}. */
export interface CompressOptions {
  /** Bodies of known length below this many bytes are not compressed (default 64, as Deno). */
  minSize?: number;
}

/**
 * The `CompressionStream` format of each coding this runtime can produce. Deno 2.9 calls
 * brotli `"brotli"` (the standard name `"br"` is refused); both are tried.
 */
const FORMATS: Partial<Record<Coding, string>> = {};
for (const [coding, names] of [["br", ["br", "brotli"]], ["gzip", ["gzip"]]] as const) {
  for (const name of names) {
    try {
      new CompressionStream(name as CompressionFormat);
      FORMATS[coding] = name;
      break;
    } catch {
      // Not supported under this name.
    }
  }
}

/** The codings this runtime can produce, best first. */
export const AVAILABLE_CODINGS: readonly Coding[] = (["br", "gzip"] as const).filter((c) =>
  FORMATS[c] !== undefined
);

/**
 * Wraps `handler` so that its responses are compressed when the client accepts `br` or `gzip`
 * and the response is worth it.
 *
 * @example
 * ```ts
 * import { withCompression } from "./compress.ts";
 * const handler = withCompression(() => new Response("hello ".repeat(100)));
 * const response = await handler(
 *   new Request("http://localhost/", { headers: { "accept-encoding": "gzip" } }),
 *   { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 }, completed: Promise.resolve() },
 * );
 * response.headers.get("content-encoding"); // "gzip"
 * ```
 */
export function withCompression(handler: Handler, options: CompressOptions = {}): Handler {
  const minSize = options.minSize ?? DEFAULT_MIN_SIZE;
  if (!(Number.isSafeInteger(minSize) && minSize >= 0)) {
    throw new RangeError(`minSize must be an integer >= 0, got ${minSize}`);
  }
  return async (request, info) => compressResponse(request, await handler(request, info), minSize);
}

/**
 * `response`, compressed for `request` if it should be (the body of {@link withCompression}).
 *
 * @example
 * ```ts
 * import { compressResponse } from "./compress.ts";
 * const request = new Request("http://localhost/", { headers: { "accept-encoding": "br" } });
 * const response = await compressResponse(request, new Response("<p>hi</p>".repeat(50), {
 *   headers: { "content-type": "text/html" },
 * }));
 * response.headers.get("content-encoding"); // "br"
 * ```
 */
export async function compressResponse(
  request: Request,
  response: Response,
  minSize = DEFAULT_MIN_SIZE,
): Promise<Response> {
  if (!(response instanceof Response) || upgradeKey in response || response.bodyUsed) {
    return response;
  }
  const parts: ResponseParts = { fields: [], contentType: null, body: null };
  // Deno keeps a body given whole as the string or array given; only those have a known length.
  const whole = readResponseParts(response, parts) ? parts.body as BodyInit | null : undefined;
  const bodyLength = whole === undefined
    ? (response.body === null ? 0 : null)
    : whole === null
    ? 0
    : typeof whole === "string"
    ? utf8Length(whole)
    : (whole as Uint8Array).byteLength;
  const plan = compressionPlan(
    { method: request.method, status: response.status, headers: response.headers, bodyLength },
    request.headers.get("accept-encoding"),
    minSize,
    AVAILABLE_CODINGS,
  );
  if (!plan.eligible) return response;
  if (plan.coding === null) {
    const headers = new Headers(response.headers);
    addVary(headers);
    return rebuild(response, whole === undefined ? response.body : whole, headers);
  }
  const format = FORMATS[plan.coding]! as CompressionFormat;
  const headers = encodedHeaders(response.headers, plan.coding);
  if (whole === undefined) {
    return rebuild(response, response.body!.pipeThrough(new CompressionStream(format)), headers);
  }
  const compressed = await new Response(
    new Response(whole).body!.pipeThrough(new CompressionStream(format)),
  ).bytes();
  return rebuild(response, compressed, headers);
}

function rebuild(response: Response, body: BodyInit | null, headers: Headers): Response {
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
