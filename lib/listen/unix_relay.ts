/**
 * Serving UNIX and abstract sockets with every worker.
 *
 * A UNIX socket can be shared by neither `reusePort` nor `loadBalanced`, and a worker that owns
 * one cannot hand it over on a restart without a moment in which clients are refused (and, after
 * a privilege drop, without permission to bind it again). So the supervisor binds each socket
 * once, in the main thread, before privileges are dropped, and relays every connection to the
 * workers over one loopback TCP listener they share (one accept queue, like a shared TCP port).
 * The relay writes a preamble with a secret token first (see `relay_listener.ts`), so the
 * loopback port gives no way around the socket file's permissions. Measurements are in `docs/listeners.md`.
 *
 * @module
 */

import { closeQuietly } from "./wrapped_listener.ts";
import { boundSpec, listenerScheme, loadTls, openListener } from "./open.ts";
import { findRelay, formatListenSpec, type ListenSpec, relayInPlace } from "./spec.ts";
import { log } from "../log.ts";
import { encodePreamble, RELAY_TOKEN_BYTES, toHex } from "./relay_preamble.ts";
import { RelayConnector } from "./relay_connector.ts";
import { bindSocket, removeOwnSocketFiles } from "./unix_socket.ts";
import type { TlsMaterial } from "./tls_material.ts";

type SocketSpec = Extract<ListenSpec, { kind: "unix" | "abstract" }>;

function isSocketSpec(spec: ListenSpec): spec is SocketSpec {
  return spec.kind === "unix" || spec.kind === "abstract";
}

/**
 * The relay for a server's UNIX sockets. Without any socket among the listeners it does
 * nothing and changes nothing.
 *
 * @example
 * ```ts ignore
 * const relay = await UnixRelay.open(options.listeners, options.timeout * 1000);
 * // workers listen on relay.workerListeners; once the first one listens:
 * const addresses = relay.start(await supervisor.start());
 * ```
 */
export class UnixRelay {
  /** What the workers listen on: the other listeners, plus the loopback relay listener. */
  readonly workerListeners: ListenSpec[];
  readonly #sockets: SocketSpec[];
  readonly #listeners: Deno.UnixListener[];
  readonly #token: Uint8Array;
  readonly #connector: RelayConnector;
  #accepting = false;
  #closed = false;

  private constructor(
    listeners: ListenSpec[],
    sockets: SocketSpec[],
    bound: Deno.UnixListener[],
    writeTimeout: number,
  ) {
    this.#sockets = sockets;
    this.#listeners = bound;
    this.#token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
    this.#connector = new RelayConnector(
      writeTimeout,
      (message) => log.warning("{message}", { message }),
    );
    if (sockets.length === 0) {
      this.workerListeners = listeners;
      return;
    }
    this.workerListeners = relayInPlace(listeners, isSocketSpec, {
      token: toHex(this.#token),
      routes: sockets,
      scheme: "http",
    });
  }

  /**
   * Binds every UNIX and abstract socket among `listeners` in this thread (a stale socket file
   * is replaced; anything else in the way is an error naming the path). `writeTimeout` is the
   * engine's write timeout in ms, which the relay applies to writes to its clients.
   */
  static async open(listeners: ListenSpec[], writeTimeout: number): Promise<UnixRelay> {
    const sockets = listeners.filter(isSocketSpec);
    if (sockets.length > 255) throw new Error("too many UNIX sockets (at most 255)");
    const bound: Deno.UnixListener[] = [];
    try {
      for (const spec of sockets) {
        bound.push(
          await bindSocket(spec, (path) => log.info("replaced the stale socket {path}", { path })),
        );
      }
    } catch (error) {
      for (const listener of bound) closeQuietly(listener);
      removeOwnSocketFiles();
      throw error;
    }
    return new UnixRelay(listeners, sockets, bound, writeTimeout);
  }

  /** Whether there is anything to relay. */
  get active(): boolean {
    return this.#sockets.length > 0;
  }

  /**
   * Starts relaying, given the addresses the workers bound (which resolve the relay's port);
   * returns those addresses as the user sees them: the relay listener replaced by the sockets.
   */
  start(bound: ListenSpec[]): ListenSpec[] {
    if (!this.active) return bound;
    const relay = findRelay(bound, toHex(this.#token));
    if (relay === undefined) throw new Error("the workers did not open the relay listener");
    this.#connector.port = relay.port;
    this.#accepting = true;
    this.#listeners.forEach((listener, index) => this.#acceptFrom(listener, index));
    return bound.flatMap((spec) => spec === relay ? this.#sockets : [spec]);
  }

  /** Stops accepting new connections (shutdown begun); relayed ones go on until they end. */
  stopAccepting(): void {
    this.#accepting = false;
    for (const listener of this.#listeners) closeQuietly(listener);
  }

  /**
   * Ends everything once the workers are gone: closes the sockets, lets relayed connections pass
   * on their last bytes (briefly), then ends them, and removes the socket files (those that
   * cannot be removed after a privilege drop are left to the cleanup helper).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stopAccepting();
    await this.#connector.drained();
    this.#connector.close();
    removeOwnSocketFiles(this.#sockets.flatMap((spec) => spec.kind === "unix" ? [spec.path] : []));
  }

  async #acceptFrom(listener: Deno.UnixListener, index: number): Promise<void> {
    const preamble = encodePreamble(this.#token, index);
    while (this.#accepting) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch (error) {
        if (!this.#accepting || error instanceof Deno.errors.BadResource) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.#connector.relay(client, preamble);
    }
  }
}

/** Listeners opened in the main thread for `workers: 0`. */
export interface InProcessListeners {
  /** One per listener spec, in order. */
  listeners: Deno.Listener[];
  /** What each listener is bound to (port 0 resolved). */
  addresses: ListenSpec[];
  /** `http` or `https` per listener. */
  schemes: ("http" | "https")[];
  /** Closes every listener and removes the socket files this process created. */
  close(): void;
}

/**
 * Opens every listener in this thread, for a server without workers: TCP (TLS when `tls` is
 * given) and UNIX or abstract sockets directly, with the same socket-file rules as the relay.
 *
 * @throws {Error} one line naming the address that could not be opened.
 */
export async function openInProcess(
  specs: ListenSpec[],
  tls: TlsMaterial | undefined,
): Promise<InProcessListeners> {
  const listeners: Deno.Listener[] = [];
  const close = () => {
    for (const listener of listeners) closeQuietly(listener);
    removeOwnSocketFiles();
  };
  try {
    if (tls !== undefined) await loadTls();
    for (const spec of specs) {
      if (isSocketSpec(spec)) {
        listeners.push(
          await bindSocket(spec, (path) => log.info("replaced the stale socket {path}", { path })),
        );
        continue;
      }
      try {
        listeners.push(openListener(spec, "single", tls));
      } catch (error) {
        throw new Error(`cannot listen on ${formatListenSpec(spec)}: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    close();
    throw error;
  }
  return {
    listeners,
    addresses: specs.map((spec, i) => boundSpec(spec, listeners[i])),
    schemes: specs.map((spec) => listenerScheme(spec, tls)),
    close,
  };
}
