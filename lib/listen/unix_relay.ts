/**
 * Serving UNIX and abstract sockets with every worker.
 *
 * A UNIX socket can be shared by neither `reusePort` nor `loadBalanced`, and a worker that owns
 * one cannot hand it over on a restart without a moment in which clients are refused (and, after
 * a privilege drop, without permission to bind it again). So the supervisor binds each socket
 * once, in the main thread, before privileges are dropped, and relays every connection to the
 * workers over one loopback TCP listener they share (one accept queue, like a shared TCP port).
 * The relay writes a secret token first (see `relay_listener.ts`), so the loopback port gives no
 * way around the socket file's permissions. Measurements are in `docs/listeners.md`.
 *
 * @module
 */

import { closeQuietly, writeAll } from "./wrapped_listener.ts";
import { boundSpec, listenerScheme, loadTls, openListener } from "./open.ts";
import { formatListenSpec, isRelaySpec, type ListenSpec, type RelayListenSpec } from "./spec.ts";
import { log } from "../log.ts";
import { RELAY_TOKEN_BYTES } from "./relay_listener.ts";
import { bindSocket, removeOwnSocketFiles } from "./unix_socket.ts";
import type { TlsMaterial } from "./tls_material.ts";

type SocketSpec = Extract<ListenSpec, { kind: "unix" | "abstract" }>;

const BUFFER = 16 * 1024;
/** How long to keep trying the workers when none is listening (all restarting at once). */
const CONNECT_PATIENCE = 3000;

function isSocketSpec(spec: ListenSpec): spec is SocketSpec {
  return spec.kind === "unix" || spec.kind === "abstract";
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A client connection and the worker connection it is relayed to. */
interface Pair {
  client: Deno.Conn;
  backend: Deno.Conn | undefined;
}

/**
 * The relay for a server's UNIX sockets. Without any socket among the listeners it does
 * nothing and changes nothing.
 *
 * @example
 * ```ts ignore
 * const relay = await UnixRelay.open(options.listeners);
 * // workers listen on relay.workerListeners; once the first one listens:
 * const addresses = relay.start(await supervisor.start());
 * ```
 */
export class UnixRelay {
  /** What the workers listen on: the TCP listeners, plus the loopback relay listener. */
  readonly workerListeners: ListenSpec[];
  readonly #sockets: SocketSpec[];
  readonly #listeners: Deno.UnixListener[];
  readonly #preamble: Uint8Array[];
  readonly #pairs = new Set<Pair>();
  #backendPort = 0;
  #accepting = false;
  #closed = false;
  #warned = false;

  private constructor(listeners: ListenSpec[], sockets: SocketSpec[], bound: Deno.UnixListener[]) {
    this.#sockets = sockets;
    this.#listeners = bound;
    const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
    this.#preamble = sockets.map((_, index) => {
      const bytes = new Uint8Array(RELAY_TOKEN_BYTES + 1);
      bytes.set(token);
      bytes[RELAY_TOKEN_BYTES] = index;
      return bytes;
    });
    if (sockets.length === 0) {
      this.workerListeners = listeners;
      return;
    }
    const relay: RelayListenSpec = {
      kind: "tcp",
      hostname: "127.0.0.1",
      port: 0,
      relay: { token: hex(token), sockets },
    };
    this.workerListeners = [];
    for (const spec of listeners) {
      if (!isSocketSpec(spec)) this.workerListeners.push(spec);
      else if (spec === sockets[0]) this.workerListeners.push(relay);
    }
  }

  /**
   * Binds every UNIX and abstract socket among `listeners` in this thread (a stale socket file
   * is replaced; anything else in the way is an error naming the path).
   */
  static async open(listeners: ListenSpec[]): Promise<UnixRelay> {
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
    return new UnixRelay(listeners, sockets, bound);
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
    const relay = bound.find(isRelaySpec);
    if (relay === undefined) throw new Error("the workers did not open the relay listener");
    this.#backendPort = relay.port;
    this.#accepting = true;
    this.#listeners.forEach((listener, index) => this.#acceptFrom(listener, index));
    return bound.flatMap((spec) => isRelaySpec(spec) ? this.#sockets : [spec]);
  }

  /** Stops accepting new connections (shutdown begun); relayed ones go on until they end. */
  stopAccepting(): void {
    this.#accepting = false;
    for (const listener of this.#listeners) closeQuietly(listener);
  }

  /**
   * Ends everything: closes the sockets and every relayed connection, and removes the socket
   * files (those that cannot be removed after a privilege drop are left to the cleanup helper).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopAccepting();
    for (const pair of this.#pairs) this.#end(pair);
    removeOwnSocketFiles(this.#sockets.flatMap((spec) => spec.kind === "unix" ? [spec.path] : []));
  }

  async #acceptFrom(listener: Deno.UnixListener, index: number): Promise<void> {
    while (this.#accepting) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch (error) {
        if (!this.#accepting || error instanceof Deno.errors.BadResource) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.#relay(client, index);
    }
  }

  async #relay(client: Deno.Conn, index: number): Promise<void> {
    const pair: Pair = { client, backend: undefined };
    this.#pairs.add(pair);
    try {
      const backend = await this.#connect();
      if (backend === undefined || !this.#pairs.has(pair)) {
        if (backend !== undefined) closeQuietly(backend);
        this.#end(pair);
        return;
      }
      pair.backend = backend;
      await writeAll(backend, this.#preamble[index]);
    } catch {
      this.#end(pair);
      return;
    }
    const backend = pair.backend;
    // Client → worker: a client that half-closes still gets its response.
    (async () => {
      const buffer = new Uint8Array(BUFFER);
      try {
        for (;;) {
          const n = await client.read(buffer);
          if (n === null) break;
          await writeAll(backend, buffer.subarray(0, n));
        }
        await backend.closeWrite();
      } catch {
        this.#end(pair);
      }
    })();
    // Worker → client: when the worker closes, the client's connection is closed.
    const buffer = new Uint8Array(BUFFER);
    try {
      for (;;) {
        const n = await backend.read(buffer);
        if (n === null) break;
        await writeAll(client, buffer.subarray(0, n));
      }
    } catch {
      // Either side went away.
    }
    this.#end(pair);
  }

  async #connect(): Promise<Deno.TcpConn | undefined> {
    const deadline = Date.now() + CONNECT_PATIENCE;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.#backendPort });
        conn.setNoDelay(true);
        this.#warned = false;
        return conn;
      } catch (error) {
        if (this.#closed || Date.now() >= deadline) {
          if (!this.#warned) {
            this.#warned = true;
            log.warning("UNIX socket relay: no worker accepts: {reason}", {
              reason: (error as Error).message,
            });
          }
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  #end(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    closeQuietly(pair.client);
    if (pair.backend !== undefined) closeQuietly(pair.backend);
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
