/**
 * The start-up banner, one line per listener, in the original's words followed by the URL to
 * open (for TCP listeners), printed once the server listens.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";

/**
 * The URL a TCP listener serves, with the host as bound (`deno serve` prints it the same way):
 * `http://0.0.0.0:5000/`, `https://[::1]:8443/`. `undefined` for UNIX and abstract sockets,
 * which have no URL of their own.
 *
 * @example
 * ```ts
 * import { listenerUrl } from "./banner.ts";
 * listenerUrl({ kind: "tcp", hostname: "::", port: 8080 }, false); // "http://[::]:8080/"
 * ```
 */
export function listenerUrl(spec: ListenSpec, tls: boolean): string | undefined {
  if (spec.kind !== "tcp") return undefined;
  const host = spec.hostname.includes(":") ? `[${spec.hostname}]` : spec.hostname;
  return `${tls ? "https" : "http"}://${host}:${spec.port}/`;
}

/**
 * `Starting Starlight/0.1.0 http server listening at port 5000 (http://0.0.0.0:5000/)`, or
 * `… at socket /path`. A TCP listener on a specific host names it after the port.
 *
 * @example
 * ```ts
 * import { bannerLine } from "./banner.ts";
 * bannerLine("Starlight/0.1.0", { kind: "tcp", hostname: "127.0.0.1", port: 80 }, false);
 * // "Starting Starlight/0.1.0 http server listening at port 80 on 127.0.0.1 (http://127.0.0.1:80/)"
 * ```
 */
export function bannerLine(software: string, spec: ListenSpec, tls: boolean): string {
  const start = `Starting ${software} ${
    tls && spec.kind === "tcp" ? "https" : "http"
  } server listening at `;
  switch (spec.kind) {
    case "tcp": {
      const where = spec.hostname === "0.0.0.0" || spec.hostname === "::"
        ? `port ${spec.port}`
        : `port ${spec.port} on ${spec.hostname}`;
      return `${start}${where} (${listenerUrl(spec, tls)})`;
    }
    case "unix":
      return `${start}socket ${spec.path}`;
    case "abstract":
      return `${start}socket @${spec.name}`;
  }
}
