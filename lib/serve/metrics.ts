/**
 * `--metrics-listen` for either way of serving: the figures come from a snapshot function, the
 * pool's or the in-process server's.
 *
 * @module
 */

import { describeError, log } from "../log.ts";
import { formatListenSpec } from "../listen/spec.ts";
import type { ResolvedOptions } from "../options/mod.ts";
import { type MetricsServer, serveMetrics } from "../observe/metrics_server.ts";
import type { ServerMetrics } from "../observe/metrics.ts";

/**
 * Starts `--metrics-listen`, if given, after the app's listeners: an address in use is a
 * warning, not the end of a server that otherwise serves.
 */
export function startMetrics(
  options: ResolvedOptions,
  snapshot: () => ServerMetrics,
): MetricsServer | undefined {
  const spec = options.metricsListen;
  if (spec === undefined) return undefined;
  try {
    const server = serveMetrics(spec, snapshot);
    const { hostname, port } = server.addr;
    log.info("metrics at http://{host}:{port}/metrics and /status", {
      host: hostname.includes(":") ? `[${hostname}]` : hostname,
      port,
    });
    return server;
  } catch (error) {
    log.warning("--metrics-listen {address}: {reason}; serving without metrics", {
      address: formatListenSpec(spec),
      reason: describeError(error),
    });
    return undefined;
  }
}
