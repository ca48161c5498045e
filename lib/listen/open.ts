/**
 * Opens the Deno listener for one {@link ListenSpec}: in a worker, in a TLS front
 * (`tls_front.ts`), or in the main thread when one thread serves everything (`workers: 0`).
 * Workers that run the app never open a TLS listener: they get no key.
 *
 * @module
 */

import { listenShared } from "../deno/shared_listen.ts";
import { isRelaySpec, type ListenSpec } from "./spec.ts";
import type { ListenMode } from "../options/mod.ts";
import { openRelayListener } from "./relay_listener.ts";
import type { ServerTls, TlsMaterial } from "./tls_material.ts";

/** `Deno.listen` options with `reusePort`, which needs `--unstable-net`. */
type TcpListenOptions = Deno.TcpListenOptions & { reusePort?: boolean };

let nodeTls: typeof import("./tls_listener.ts") | undefined;

/**
 * Loads the `node:tls` engine that TLS listeners use. Only a server with TLS calls it, so
 * other workers never load Node's TLS, stream and buffer modules (a few MiB each).
 */
export async function loadTls(): Promise<void> {
  nodeTls ??= await import("./tls_listener.ts");
}

/**
 * How a worker opens its TCP listeners: the public `--listen-mode`, or `process` for process
 * workers, which share no socket with the supervisor or each other (`loadBalanced` works only
 * within one process) and each bind every port, the relay's included, with `reusePort`.
 */
export type WorkerListenMode = ListenMode | "process";

/**
 * Opens a listener for `spec`, shared between workers as `mode` says (`single` when one thread
 * serves everything and nothing is shared).
 *
 * TLS has two engines (measurements in `docs/listeners.md`):
 * - in `shared` and `single` mode, and whenever client certificates are asked for, a plain TCP
 *   listener (one accept queue in `shared` mode) with the handshake run by `node:tls`: the header
 *   timeout really closes a client that never completes its handshake, restarts lose no queued
 *   connection, workers started after a privilege drop join a port below 1024;
 * - in `reuseport` mode, `Deno.listenTls` with `reusePort`: faster (about 1.5× the requests per
 *   second on keep-alive, 2× the new connections), but Deno keeps the socket of a client that
 *   never finishes its handshake until that client leaves, whatever the timeout.
 *
 * The internal relay listener for UNIX sockets is always one shared queue. UNIX and abstract
 * sockets are not opened here: they are bound once in the main thread (`unix_socket.ts`,
 * `unix_relay.ts`), since no two listeners can share one.
 *
 * @throws {Error} for a UNIX or abstract socket spec.
 */
export function openListener(
  spec: ListenSpec,
  mode: WorkerListenMode | "single",
  tls?: TlsMaterial,
): Deno.Listener {
  if (spec.kind !== "tcp") {
    throw new Error(
      `socket ${spec.kind === "unix" ? spec.path : "@" + spec.name}: bound by the main thread only`,
    );
  }
  if (isRelaySpec(spec)) {
    return openRelayListener(
      spec,
      mode === "single" ? "single" : mode === "process" ? "reuseport" : "shared",
    );
  }
  const options: TcpListenOptions = { hostname: spec.hostname, port: spec.port };
  const server = tls as ServerTls | undefined;
  if (server !== undefined && mode === "reuseport" && server.clientAuth === undefined) {
    return Deno.listenTls(
      {
        ...options,
        cert: server.cert,
        key: server.key,
        reusePort: true,
      } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
    );
  }
  if (mode === "reuseport" || mode === "process") options.reusePort = true;
  const listener = mode === "shared" ? listenShared(options) : Deno.listen(options);
  if (server === undefined) return listener;
  if (nodeTls === undefined) throw new Error("TLS listeners need loadTls() first");
  return nodeTls.openNodeTlsListener(listener, {
    cert: server.cert,
    key: server.key,
    clientAuth: server.clientAuth,
    handshakeTimeout: server.handshakeTimeout ?? 30_000,
  });
}

/**
 * Whether the listener {@link openListener} opens for `spec` takes its connections from one
 * accept queue shared with the other workers (Deno's `loadBalanced`): TCP and TLS in `shared`
 * mode, and the relay listener always. Only `Deno.listenTls` (TLS in `reuseport` mode without
 * client certificates) and `reuseport` TCP give each worker a queue of its own.
 */
export function sharesAcceptQueue(
  spec: ListenSpec,
  mode: WorkerListenMode | "single",
): boolean {
  if (spec.kind !== "tcp" || mode === "single" || mode === "process") return false;
  return isRelaySpec(spec) || mode === "shared";
}

/**
 * The scheme requests on `spec` are served with: `https` on TCP listeners when TLS is on;
 * `http` on UNIX sockets; on a relay listener, that of the listeners it relays.
 */
export function listenerScheme(spec: ListenSpec, tls?: TlsMaterial): "http" | "https" {
  if (isRelaySpec(spec)) return spec.relay.scheme;
  return tls !== undefined && spec.kind === "tcp" ? "https" : "http";
}

/** The address a listener ended up on, as a spec (port 0 resolved to the real port). */
export function boundSpec(spec: ListenSpec, listener: Deno.Listener): ListenSpec {
  if (spec.kind !== "tcp") return spec;
  return { ...spec, port: (listener.addr as Deno.NetAddr).port };
}
