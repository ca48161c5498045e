/**
 * The engine's configuration, and the one place that makes it from the resolved options: the
 * in-process server and every worker get the same mapping.
 *
 * @module
 */

import type { Handler } from "../app/contract.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "../http/head.ts";
import type { ResolvedOptions } from "../options/mod.ts";
import { TrustedProxies } from "../http/forwarded.ts";

/**
 * The engine settings that can be sent to a worker (plain data). Times are in milliseconds;
 * `Infinity` means no limit.
 */
export interface EngineSettings {
  /**
   * Idle limit for every read and write, in ms; also how long the app may take to start its
   * response (503 beyond), and the grace a request body gets before its minimum rate applies.
   */
  readonly timeout: number;
  /** Total limit for receiving a request head, in ms (slowloris defence). */
  readonly headerTimeout: number;
  /** Limit from a response to the first byte of the next request, in ms. */
  readonly keepaliveTimeout: number;
  /** Requests per connection; `Infinity` for no limit. */
  readonly maxKeepaliveRequests: number;
  /** Largest request body in bytes; `Infinity` for no limit. */
  readonly maxRequestBody: number;
  /** `Server` header value; `""` for none. */
  readonly serverSoftware: string;
  /** Show error details (stack traces) in 500 responses. */
  readonly development: boolean;
  /** The path the server answers itself (`--health-path`), if any. */
  readonly healthPath?: string;
  /** Peers whose forwarding headers are trusted (`--forwarded-allow-ips`), as given. */
  readonly forwardedAllowIps?: string;
}

/** Everything the engine needs to know, fixed for its server's life. */
export interface EngineOptions extends EngineSettings {
  /** The app. */
  readonly handler: Handler;
  /** Request head limits. */
  readonly limits: HeadLimits;
  /** Parsed from `forwardedAllowIps`; `undefined` when no peer is trusted. */
  readonly trustedProxies: TrustedProxies | undefined;
}

/**
 * The engine settings for resolved options (seconds become milliseconds).
 *
 * @example
 * ```ts ignore
 * import { engineSettings } from "./config.ts";
 * const settings = engineSettings(resolveOptions({ app: "./app.ts" }));
 * settings.timeout; // 300000
 * ```
 */
export function engineSettings(options: ResolvedOptions): EngineSettings {
  return {
    timeout: options.timeout * 1000,
    headerTimeout: options.headerTimeout * 1000,
    keepaliveTimeout: options.keepaliveTimeout * 1000,
    maxKeepaliveRequests: options.maxKeepaliveReqs,
    maxRequestBody: options.maxRequestBody,
    serverSoftware: options.serverSoftware,
    development: options.env === "development",
    healthPath: options.healthPath,
    forwardedAllowIps: options.forwardedAllowIps,
  };
}

/**
 * The engine options for `settings` (only its engine fields are taken, so a worker's whole
 * start message may be passed) and the app's handler.
 *
 * @example
 * ```ts ignore
 * import { engineOptions } from "./config.ts";
 * const server = new HttpServer(engineOptions(settings, handler), hooks);
 * ```
 */
export function engineOptions(
  settings: EngineSettings,
  handler: Handler,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): EngineOptions {
  return {
    handler,
    limits,
    timeout: settings.timeout,
    headerTimeout: settings.headerTimeout,
    keepaliveTimeout: settings.keepaliveTimeout,
    maxKeepaliveRequests: settings.maxKeepaliveRequests,
    maxRequestBody: settings.maxRequestBody,
    serverSoftware: settings.serverSoftware,
    development: settings.development,
    healthPath: settings.healthPath,
    forwardedAllowIps: settings.forwardedAllowIps,
    trustedProxies: settings.forwardedAllowIps === undefined
      ? undefined
      : TrustedProxies.parse(settings.forwardedAllowIps),
  };
}
