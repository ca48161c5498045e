/**
 * Starlight for Deno: a multi-worker HTTP/1.1 server that runs fetch-style apps on every core,
 * recycles and restarts workers gracefully, and runs the app with fewer permissions than the
 * server itself.
 *
 * Run an app (`app.ts` default-exports `{ fetch(request, info) }`, as for `deno serve`):
 *
 * ```sh
 * deno run -A jsr:@x/starlight --workers 4 --port 8080 app.ts
 * ```
 *
 * Or embed it:
 *
 * @example
 * ```ts ignore
 * import { serve } from "@x/starlight";
 * const server = await serve({ app: new URL("./app.ts", import.meta.url), port: 8080 });
 * await server.finished;
 * ```
 *
 * @module
 */

export { serve, type ServeContext, type Server } from "./lib/serve/mod.ts";
export type {
  Engine,
  Isolation,
  ListenMode,
  LogFormat,
  ResolvedOptions,
  ResolvedPermissions,
  ServeOptions,
  WorkerPermissions,
} from "./lib/options/mod.ts";
export { OptionError } from "./lib/options/mod.ts";
export type { ListenSpec } from "./lib/listen/spec.ts";
export type { App, Handler, RemoteAddr, ServeHandlerInfo } from "./lib/app/contract.ts";
export { retireWorker } from "./lib/app/retire.ts";
export type { AppHooks, StopInfo, StopReason } from "./lib/app/lifecycle.ts";
export type { LogLevel, LogRecord } from "./lib/log.ts";
export { PermissionError } from "./lib/sandbox/permissions.ts";
export { GuardedEventTarget } from "./lib/websocket/guarded_event_target.ts";
export {
  StarlightWebSocket,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  websocketHandshakeError,
  type WebSocketUpgrade,
} from "./lib/websocket/mod.ts";
export { VERSION } from "./lib/version.ts";

// No top-level await: an app served in this thread (`--workers 0`) may import this module, and
// its evaluation must finish for that import to resolve.
if (import.meta.main) {
  import("./cli.ts").then(({ main }) => main(Deno.args)).then((code) => Deno.exit(code));
}
