/**
 * The `--metrics-listen` listener: `/metrics` (Prometheus text) and `/status` (JSON) on an
 * address of their own, served by the supervisor, which runs no app code. Anything else is
 * 404, a method other than GET or HEAD 405.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";
import { prometheusText, type ServerMetrics, statusJson } from "./metrics.ts";

/** A running metrics listener. */
export interface MetricsServer {
  /** The address it listens on (port resolved). */
  readonly addr: Deno.NetAddr;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Serves `snapshot()` on `spec`.
 *
 * @example
 * ```ts ignore
 * const server = serveMetrics({ kind: "tcp", hostname: "127.0.0.1", port: 9100 }, () => pool.metrics());
 * await server.close();
 * ```
 */
export function serveMetrics(spec: ListenSpec, snapshot: () => ServerMetrics): MetricsServer {
  if (spec.kind !== "tcp") throw new Error("--metrics-listen: a HOST:PORT, not a socket");
  const server = Deno.serve({
    hostname: spec.hostname,
    port: spec.port,
    onListen() {},
  }, (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("only GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = new URL(request.url).pathname;
    if (path === "/metrics") {
      return new Response(prometheusText(snapshot()), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (path === "/status") {
      return new Response(statusJson(snapshot()), {
        headers: { "content-type": "application/json" },
      });
    }
    return new Response("not found: try /metrics or /status\n", { status: 404 });
  });
  return { addr: server.addr as Deno.NetAddr, close: () => server.shutdown() };
}
