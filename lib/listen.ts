/**
 * Opens the Deno listener for one {@link ListenSpec} inside a worker.
 *
 * @module
 */

import type { ListenSpec } from "./listen_spec.ts";
import type { ListenMode } from "./options.ts";
import type { TlsMaterial } from "./worker_protocol.ts";

/** `Deno.listen` options including the shared-socket flag missing from Deno's declarations. */
type TcpListenOptions = Deno.TcpListenOptions & { reusePort?: boolean; loadBalanced?: boolean };

/**
 * Opens a listener. TCP listeners are shared between workers as `mode` says (`single` when
 * one thread serves everything and nothing is shared); TLS between workers always uses
 * `reusePort`, because `Deno.listenTls` ignores the shared-socket mode.
 */
export function openListener(
  spec: ListenSpec,
  mode: ListenMode | "single",
  tls: TlsMaterial | undefined,
): Deno.Listener {
  switch (spec.kind) {
    case "tcp": {
      if (tls !== undefined) {
        return Deno.listenTls({
          hostname: spec.hostname,
          port: spec.port,
          cert: tls.cert,
          key: tls.key,
          reusePort: mode !== "single",
        } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem);
      }
      const options: TcpListenOptions = { hostname: spec.hostname, port: spec.port };
      if (mode === "reuseport") options.reusePort = true;
      else if (mode === "shared") options.loadBalanced = true;
      return Deno.listen(options);
    }
    case "unix":
      return Deno.listen({ transport: "unix", path: spec.path });
    case "abstract":
      return Deno.listen({ transport: "unix", path: "\0" + spec.name });
  }
}

/** The address a listener ended up on, as a spec (port 0 resolved to the real port). */
export function boundSpec(spec: ListenSpec, listener: Deno.Listener): ListenSpec {
  if (spec.kind !== "tcp") return spec;
  return { ...spec, port: (listener.addr as Deno.NetAddr).port };
}
