/**
 * Whether and how to compress a response (`--compress`), as pure decisions: the coding the
 * client prefers (RFC 9110 §12.5.3), whether the content type is worth compressing, whether the
 * response may be transformed at all, and the header changes a compressed response needs. The
 * rules follow `Deno.serve` with `DENO_SERVE_AUTOMATIC_COMPRESSION=1` (ext/http/http_next.rs,
 * compressible.rs in Deno 2.9) except where noted.
 *
 * @module
 */

/** A content coding Starlight can produce. */
export type Coding = "br" | "gzip";

/** Bodies shorter than this (when their length is known) are sent as they are (as Deno). */
export const DEFAULT_MIN_SIZE = 64;

/**
 * The coding to use for a client that sent `acceptEncoding`, or null for none. Higher q wins;
 * on a tie `br` beats `gzip`, and either beats `identity` only when its q is at least
 * identity's (as Deno). Unlike Deno, the grammar is RFC 9110's (whitespace around `;`, `Q=`),
 * `*` stands for codings not listed, and `x-gzip` is `gzip` (§8.4.1.3). Entries with a bad
 * q-value are ignored.
 *
 * @example
 * ```ts
 * import { preferredCoding } from "./compression.ts";
 * preferredCoding("gzip, deflate, br, zstd"); // "br"
 * preferredCoding("br;q=0.5, gzip"); // "gzip"
 * preferredCoding("identity"); // null
 * ```
 */
export function preferredCoding(
  acceptEncoding: string | null,
  available: readonly Coding[] = ["br", "gzip"],
): Coding | null {
  if (acceptEncoding === null) return null;
  let br = -1;
  let gzip = -1;
  let identity = 0;
  let star = -1;
  for (const item of acceptEncoding.split(",")) {
    const semicolon = item.indexOf(";");
    const coding = (semicolon < 0 ? item : item.slice(0, semicolon)).trim().toLowerCase();
    if (coding === "") continue;
    const q = semicolon < 0 ? 1 : qValue(item.slice(semicolon + 1));
    if (q < 0) continue;
    if (coding === "br") br = Math.max(br, q);
    else if (coding === "gzip" || coding === "x-gzip") gzip = Math.max(gzip, q);
    else if (coding === "identity") identity = q;
    else if (coding === "*") star = q;
  }
  if (br < 0) br = Math.max(star, 0);
  if (gzip < 0) gzip = Math.max(star, 0);
  if (!available.includes("br")) br = 0;
  if (!available.includes("gzip")) gzip = 0;
  if (br > 0 && br >= gzip && br >= identity) return "br";
  if (gzip > 0 && gzip >= identity) return "gzip";
  return null;
}

/** `q=` weight (RFC 9110 §12.4.2): 0 to 1 with at most three decimals; -1 when malformed. */
function qValue(params: string): number {
  const match = /^\s*[qQ]\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\s*$/.exec(params);
  return match === null ? -1 : Number(match[1]);
}

/** Compressible media types with no `+json`/`+xml` suffix (Deno's list, from mime-db). */
const COMPRESSIBLE = new Set([
  "application/dart",
  "application/ecmascript",
  "application/javascript",
  "application/json",
  "application/postscript",
  "application/raml+yaml",
  "application/rtf",
  "application/tar",
  "application/toml",
  "application/vnd.dart",
  "application/vnd.ms-fontobject",
  "application/vnd.ms-opentype",
  "application/wasm",
  "application/x-httpd-php",
  "application/x-javascript",
  "application/x-ns-proxy-autoconfig",
  "application/x-sh",
  "application/x-tar",
  "application/x-virtualbox-hdd",
  "application/x-virtualbox-ova",
  "application/x-virtualbox-ovf",
  "application/x-virtualbox-vbox",
  "application/x-virtualbox-vdi",
  "application/x-virtualbox-vhd",
  "application/x-virtualbox-vmdk",
  "application/x-www-form-urlencoded",
  "application/xml",
  "application/xml-dtd",
  "font/otf",
  "font/ttf",
  "image/bmp",
  "image/vnd.adobe.photoshop",
  "image/x-icon",
  "image/x-ms-bmp",
  "message/rfc822",
  "model/gltf-binary",
  "text/cache-manifest",
  "text/calender",
  "text/cmd",
  "text/css",
  "text/csv",
  "text/html",
  "text/javascript",
  "text/jsx",
  "text/less",
  "text/markdown",
  "text/mdx",
  "text/n3",
  "text/plain",
  "text/richtext",
  "text/rtf",
  "text/tab-separated-values",
  "text/uri-list",
  "text/vcard",
  "text/vtt",
  "text/x-gwt-rpc",
  "text/x-jquery-tmpl",
  "text/x-markdown",
  "text/x-org",
  "text/x-processing",
  "text/x-suse-ymp",
  "text/xml",
  "text/yaml",
  "x-shader/x-fragment",
  "x-shader/x-vertex",
]);

/**
 * Whether a body of `contentType` is worth compressing: Deno's list, plus every `+json` and
 * `+xml` type (Deno lists about 540 of them one by one; the suffix says the body is text).
 * Parameters and case do not matter; no content type means no.
 *
 * @example
 * ```ts
 * import { isCompressible } from "./compression.ts";
 * isCompressible("text/html; charset=utf-8"); // true
 * isCompressible("image/png"); // false
 * ```
 */
export function isCompressible(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semicolon = contentType.indexOf(";");
  const essence = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim()
    .toLowerCase();
  return COMPRESSIBLE.has(essence) || essence.endsWith("+json") || essence.endsWith("+xml");
}

/** What {@link compressionPlan} needs to know about the response. */
export interface ResponseFacts {
  /** The request method. */
  readonly method: string;
  /** The response status. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The body length when known (a static body), null for a stream, 0 for no body. */
  readonly bodyLength: number | null;
}

/**
 * What to do with a response: `eligible` says its representation could vary with
 * Accept-Encoding (so it gets `Vary: Accept-Encoding` whatever the client asked, unlike Deno,
 * which adds it only when it compresses, letting a cache hand an uncompressed copy to clients
 * that accept one), and `coding` is the coding to apply, if any.
 *
 * A response is not eligible for HEAD, 1xx/204/304, without a body, under the minimum size,
 * with a content type not worth compressing, or when it must not be transformed: it already has
 * `Content-Encoding`, it is a range (`Content-Range`), or `Cache-Control: no-transform`.
 *
 * @example
 * ```ts
 * import { compressionPlan } from "./compression.ts";
 * const headers = new Headers({ "content-type": "text/html" });
 * compressionPlan({ method: "GET", status: 200, headers, bodyLength: null }, "gzip");
 * // { eligible: true, coding: "gzip" }
 * ```
 */
export function compressionPlan(
  response: ResponseFacts,
  acceptEncoding: string | null,
  minSize = DEFAULT_MIN_SIZE,
  available: readonly Coding[] = ["br", "gzip"],
): { eligible: boolean; coding: Coding | null } {
  const { status, headers, bodyLength } = response;
  const eligible = response.method !== "HEAD" && status >= 200 && status !== 204 &&
    status !== 304 && bodyLength !== 0 && (bodyLength === null || bodyLength >= minSize) &&
    isCompressible(headers.get("content-type")) && !headers.has("content-encoding") &&
    !headers.has("content-range") && !noTransform(headers.get("cache-control"));
  return { eligible, coding: eligible ? preferredCoding(acceptEncoding, available) : null };
}

/** Whether Cache-Control has the `no-transform` directive (RFC 9111 §5.2.2.6). */
function noTransform(cacheControl: string | null): boolean {
  if (cacheControl === null) return false;
  return cacheControl.split(",").some((directive) =>
    directive.trim().toLowerCase() === "no-transform"
  );
}

/**
 * Adds `Accept-Encoding` to `Vary` unless it is there already or `Vary` is `*`.
 *
 * @example
 * ```ts
 * import { addVary } from "./compression.ts";
 * const headers = new Headers({ vary: "Origin" });
 * addVary(headers);
 * headers.get("vary"); // "Origin, Accept-Encoding"
 * ```
 */
export function addVary(headers: Headers): void {
  const vary = headers.get("vary");
  if (vary === null) {
    headers.set("vary", "Accept-Encoding");
    return;
  }
  const fields = vary.split(",").map((field) => field.trim().toLowerCase());
  if (fields.includes("*") || fields.includes("accept-encoding")) return;
  headers.set("vary", `${vary}, Accept-Encoding`);
}

/**
 * The header changes of a body encoded with `coding`: `Content-Encoding` set, `Content-Length`
 * dropped (the length changes), `Vary: Accept-Encoding`, and a strong `ETag` made weak, since
 * the bytes no longer match it (RFC 9110 §8.8.1) — as Deno does.
 *
 * @example
 * ```ts
 * import { encodedHeaders } from "./compression.ts";
 * const headers = encodedHeaders(new Headers({ etag: '"v1"', "content-length": "900" }), "br");
 * headers.get("etag"); // 'W/"v1"'
 * ```
 */
export function encodedHeaders(headers: Headers, coding: Coding): Headers {
  const out = new Headers(headers);
  out.delete("content-length");
  out.set("content-encoding", coding);
  addVary(out);
  const etag = out.get("etag");
  if (etag !== null && !etag.startsWith("W/")) out.set("etag", `W/${etag}`);
  return out;
}
