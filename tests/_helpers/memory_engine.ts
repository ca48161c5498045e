/**
 * The engine serving in-memory connections (`memory_conn.ts`): a test plays each client byte by
 * byte, with no socket, port or kernel buffer in the way.
 *
 * @module
 */

import "../../lib/http/node_reasons.ts";
import type { Handler } from "../../lib/app/contract.ts";
import { engineOptions, type EngineSettings } from "../../lib/engine/config.ts";
import { HttpServer } from "../../lib/engine/server.ts";
import { type MemoryConn, type MemoryConnOptions, MemoryListener } from "./memory_conn.ts";

/** Engine settings for in-memory tests: generous timeouts, no limits, a fixed Server name. */
export const MEMORY_SETTINGS: EngineSettings = {
  timeout: 5000,
  headerTimeout: 5000,
  keepaliveTimeout: 5000,
  maxKeepaliveRequests: Infinity,
  maxRequestBody: Infinity,
  serverSoftware: "Starlight/test",
  development: false,
};

/** An engine serving in-memory connections; `await using` drains it. */
export interface MemoryEngine extends AsyncDisposable {
  readonly server: HttpServer;
  /** Warnings the engine reported, as `message: ErrorName: error message`. */
  readonly warnings: string[];
  /** Opens a connection to the engine. */
  connect(options?: MemoryConnOptions): MemoryConn;
}

/** Starts the engine with `handler` on in-memory connections. */
export function startMemoryEngine(
  handler: Handler,
  settings: Partial<EngineSettings> = {},
  maxRequests = Infinity,
): MemoryEngine {
  const warnings: string[] = [];
  const server = new HttpServer(engineOptions({ ...MEMORY_SETTINGS, ...settings }, handler), {
    warn: (message, error) =>
      warnings.push(
        error instanceof Error ? `${message}: ${error.name}: ${error.message}` : message,
      ),
  }, maxRequests);
  const memory = new MemoryListener();
  const serving = server.serve(memory.listener, "http");
  const close = async () => {
    const drained = server.drain();
    const timer = setTimeout(() => server.abort(), 2000);
    await drained;
    clearTimeout(timer);
    await serving;
  };
  return {
    server,
    warnings,
    connect: (options) => memory.connect(options),
    [Symbol.asyncDispose]: close,
  };
}
