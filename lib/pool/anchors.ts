/**
 * The sockets the supervisor holds for its workers. In `shared` listen mode it opens each
 * listener that shares one accept queue itself and never accepts on it, so the port stays bound
 * while workers come and go: connections queue instead of being refused even while no worker
 * runs, no other process can take the port, and workers started after a privilege drop join the
 * socket without binding again. Ports given as 0 are resolved here, so every worker (and its
 * permissions) names the same port.
 *
 * @module
 */

import type { ListenSpec } from "../listen/spec.ts";
import { sharesAcceptQueue, type WorkerListenMode } from "../listen/open.ts";
import { listenShared } from "../deno/shared_listen.ts";
import { describeError } from "../log.ts";

/** The held sockets and the listen specs with their real ports. */
export interface Anchors {
  /** The specs, port 0 resolved. */
  listeners: ListenSpec[];
  /** Whether any listener shares one accept queue between workers (fair share applies). */
  shared: boolean;
  /** Closes every held socket. */
  close(): void;
}

/**
 * Binds what the workers will share. Throws a one-line error naming the address that cannot be
 * bound (nothing stays open then).
 *
 * @example
 * ```ts ignore
 * const anchors = holdSockets([{ kind: "tcp", hostname: "127.0.0.1", port: 0 }], "shared");
 * console.log(anchors.listeners); // [{ kind: "tcp", hostname: "127.0.0.1", port: 40123 }]
 * anchors.close();
 * ```
 */
export function holdSockets(specs: ListenSpec[], mode: WorkerListenMode): Anchors {
  const held: Deno.Listener[] = [];
  const close = () => {
    for (const anchor of held.splice(0)) {
      try {
        anchor.close();
      } catch {
        // Already closed.
      }
    }
  };
  try {
    const listeners = specs.map((spec) => {
      if (spec.kind !== "tcp") return spec;
      if (!sharesAcceptQueue(spec, mode)) {
        return spec.port === 0 ? { ...spec, port: freePort(spec.hostname) } : spec;
      }
      for (let attempt = 1;; attempt++) {
        const port = spec.port === 0 ? freePort(spec.hostname) : spec.port;
        try {
          const anchor = listenShared({ hostname: spec.hostname, port });
          held.push(anchor);
          return { ...spec, port: (anchor.addr as Deno.NetAddr).port };
        } catch (error) {
          // Another process took the free port between the probe and the bind: probe again.
          if (spec.port !== 0 || !(error instanceof Deno.errors.AddrInUse) || attempt === 5) {
            const host = spec.hostname.includes(":") ? `[${spec.hostname}]` : spec.hostname;
            throw new Error(`cannot listen on ${host}:${port}: ${describeError(error)}`);
          }
        }
      }
    });
    const shared = listeners.some((spec) => sharesAcceptQueue(spec, mode));
    return { listeners, shared, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** A port free on `hostname` right now. */
function freePort(hostname: string): number {
  const probe = Deno.listen({ hostname, port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}
