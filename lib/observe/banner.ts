/**
 * The start-up banner, one line per listener, in the original's words.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";

/**
 * `Starting Starlight/0.1.0 http server listening at port 5000`, or `… at socket /path`.
 * A TCP listener on a specific host names it after the port.
 */
export function bannerLine(software: string, spec: ListenSpec, tls: boolean): string {
  const start = `Starting ${software} ${
    tls && spec.kind === "tcp" ? "https" : "http"
  } server listening at `;
  switch (spec.kind) {
    case "tcp":
      return spec.hostname === "0.0.0.0" || spec.hostname === "::"
        ? `${start}port ${spec.port}`
        : `${start}port ${spec.port} on ${spec.hostname}`;
    case "unix":
      return `${start}socket ${spec.path}`;
    case "abstract":
      return `${start}socket @${spec.name}`;
  }
}
