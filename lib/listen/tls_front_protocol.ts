/**
 * The messages between the supervisor's TLS front manager (`tls_fronts.ts`) and its front
 * threads (`tls_front.ts`). Fronts run no app code: this is the only place key material goes.
 *
 * @module
 */

import type { ListenMode } from "../options/mod.ts";
import type { ListenSpec } from "./spec.ts";
import type { ServerTls } from "./tls_material.ts";

/** Everything a front needs. Times are in milliseconds. */
export interface FrontConfig {
  /** The front's number, for log lines. */
  id: number;
  /** The public TLS addresses (ports resolved); a client's route is its listener's index. */
  listeners: Extract<ListenSpec, { kind: "tcp" }>[];
  /** How the public ports are shared (`shared`: the manager holds the accept queue open). */
  listenMode: ListenMode;
  /** Key, certificate chain, client-certificate rules and handshake timeout. */
  tls: ServerTls;
  /** The workers' relay listener on 127.0.0.1. */
  relayPort: number;
  /** The relay's secret, hex. */
  token: string;
  /** How long a write to a client may take (the engine's `--timeout`). */
  writeTimeout: number;
}

/** Manager → front. */
export type ToFront =
  | { type: "start"; config: FrontConfig }
  /** Stop accepting; report `idle` once the connections being relayed have ended. */
  | { type: "stop" };

/** Front → manager. */
export type FromFront =
  | { type: "listening" }
  /** The listeners could not be opened; one line. */
  | { type: "failed"; message: string }
  | { type: "log"; level: "warning" | "error"; message: string }
  /** Stopped, and no connection is left. */
  | { type: "idle" };
