/**
 * The PSGI side of the port: derives the env a PSGI server would hand an app from what a fetch
 * handler receives, and turns PSGI-shaped responses back into `Response`s. Strings here are Perl
 * byte strings (one char per byte), because PSGI env values and bodies are bytes, not text.
 *
 * @module
 */

import type { ServeHandlerInfo } from "../../lib/app/contract.ts";

/** CGI meta-variables plus `psgi.url_scheme`, the string-valued part of a PSGI env. */
export type PsgiEnv = Readonly<Record<string, string | undefined>>;

/** Percent-decodes byte-wise, once, as RFC 3875 wants PATH_INFO (`%2c` → `,`, `%252c` → `%2c`). */
function uriUnescape(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** Builds the env the way Starlight's Perl ancestor fills it from the request line and headers. */
export function psgiEnv(request: Request, info: ServeHandlerInfo): PsgiEnv {
  const url = new URL(request.url);
  const env: Record<string, string> = {
    REQUEST_METHOD: request.method,
    // The app is mounted at the root: the whole path is PATH_INFO.
    SCRIPT_NAME: "",
    PATH_INFO: uriUnescape(url.pathname),
    // `Request.url` is the nearest a fetch handler gets to the raw request-target.
    REQUEST_URI: url.pathname + url.search,
    QUERY_STRING: url.search.slice(1),
    SERVER_NAME: url.hostname,
    SERVER_PORT: url.port || (url.protocol === "https:" ? "443" : "80"),
    "psgi.url_scheme": url.protocol.slice(0, -1),
  };
  if (info.httpVersion !== undefined) env.SERVER_PROTOCOL = info.httpVersion;
  const peer = info.remoteAddr;
  if ("hostname" in peer) {
    env.REMOTE_ADDR = peer.hostname;
    env.REMOTE_PORT = String(peer.port);
  }
  for (const [name, value] of request.headers) {
    const key = name.toUpperCase().replaceAll("-", "_");
    // CGI gives these two no HTTP_ prefix.
    const cgi = key === "CONTENT_LENGTH" || key === "CONTENT_TYPE";
    env[cgi ? key : `HTTP_${key}`] = value;
  }
  return env;
}

/** Perl byte string → bytes. */
export function bytes(perl: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(perl, (c) => c.charCodeAt(0));
}

/** A PSGI array response `[status, [k, v, ...], [chunk, ...]]` as a `Response`. */
export function psgi(
  status: number,
  headers: readonly string[],
  body: readonly string[],
): Response {
  // An empty PSGI body becomes no body at all: fetch forbids even an empty one on a 304.
  return new Response(body.length ? bytes(body.join("")) : null, {
    status,
    headers: headerList(headers),
  });
}

/** PSGI's flat `[k, v, k, v]` header list, keeping repeated names as separate values. */
export function headerList(flat: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
  return headers;
}
