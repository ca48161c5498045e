/**
 * TLS terminated where no app code runs (issue 13, item 10): the supervisor's process runs a few
 * front threads (`tls_front.ts`) that hold the key, accept on the public TLS ports and relay the
 * plaintext to the workers' loopback relay listener, the one UNIX sockets use. The workers —
 * threads today, processes later — listen on that relay only and never receive key material.
 *
 * The public ports are shared as the listen mode says: in `shared` mode this thread holds each
 * one open (an anchor, as the supervisor does for plain TCP) and the fronts join its accept
 * queue; in `reuseport` mode each front binds its own (`Deno.listenTls` when no client
 * certificate is asked for). Fronts never restart with the app, so `reuseport` loses nothing on
 * a HUP. The handshake, the client-certificate check and its timeout are those of
 * `tls_listener.ts` and `Deno.listenTls`, unchanged (see `open.ts`).
 *
 * @module
 */

import { log } from "../log.ts";
import type { ListenMode } from "../options/mod.ts";
import { findRelay, formatListenSpec, isRelaySpec, type ListenSpec, relayInPlace } from "./spec.ts";
import { RELAY_TOKEN_BYTES, toHex } from "./relay_preamble.ts";
import type { ServerTls } from "./tls_material.ts";
import type { FromFront, FrontConfig, ToFront } from "./tls_front_protocol.ts";
import { closeQuietly } from "./wrapped_listener.ts";
import { listenShared } from "../deno/shared_listen.ts";

type TcpSpec = Extract<ListenSpec, { kind: "tcp" }>;

/** How the fronts run. Times in milliseconds. */
export interface TlsFrontOptions {
  /** How the public ports are shared. */
  listenMode: ListenMode;
  /** Front threads to run (at least one). */
  fronts: number;
  /** The engine's write timeout, applied to writes to clients. */
  writeTimeout: number;
}

/** How long stopping fronts get to pass on the last bytes of their connections. */
const STOP_GRACE = 2000;
const FIRST_BACKOFF = 250;
const MAX_BACKOFF = 30_000;

interface Front {
  id: number;
  worker: Worker;
  listening: PromiseWithResolvers<void>;
  idle: PromiseWithResolvers<void>;
  gone: boolean;
}

/**
 * The TLS fronts of a server. Without TLS, or without a TCP listener, it does nothing and
 * changes nothing.
 *
 * @example
 * ```ts ignore
 * const fronts = TlsFronts.open(listeners, tls, { listenMode: "shared", fronts: 2, writeTimeout });
 * // workers listen on fronts.workerListeners; once they listen:
 * const addresses = await fronts.start(await supervisor.start());
 * ```
 */
export class TlsFronts {
  /** What the workers listen on: every listener but the TLS ones, plus the relay listener. */
  readonly workerListeners: ListenSpec[];
  readonly #routes: TcpSpec[];
  readonly #anchors: Deno.Listener[];
  readonly #tls: ServerTls | undefined;
  readonly #options: TlsFrontOptions;
  readonly #token = toHex(crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES)));
  readonly #fronts = new Set<Front>();
  #relayPort = 0;
  #nextId = 1;
  #failures = 0;
  #started = false;
  #stopping = false;

  private constructor(
    listeners: ListenSpec[],
    routes: TcpSpec[],
    anchors: Deno.Listener[],
    tls: ServerTls | undefined,
    options: TlsFrontOptions,
  ) {
    this.#routes = routes;
    this.#anchors = anchors;
    this.#tls = tls;
    this.#options = options;
    if (routes.length === 0) {
      this.workerListeners = listeners;
      return;
    }
    this.workerListeners = relayInPlace(listeners, isTlsSpec, {
      token: this.#token,
      routes,
      scheme: "https",
    });
  }

  /**
   * Takes the TCP listeners among `listeners` for the fronts when `tls` is given: in `shared`
   * mode binds each one now (so a port in use is an error before any worker starts, and the
   * port is bound before privileges are dropped); in `reuseport` mode resolves port 0.
   *
   * @throws {Error} one line naming the address that could not be opened.
   */
  static open(
    listeners: ListenSpec[],
    tls: ServerTls | undefined,
    options: TlsFrontOptions,
  ): TlsFronts {
    const specs = tls === undefined ? [] : listeners.filter(isTlsSpec);
    if (specs.length > 255) throw new Error("too many TLS listeners (at most 255)");
    const anchors: Deno.Listener[] = [];
    try {
      const routes = specs.map((spec) =>
        options.listenMode === "shared" ? anchor(spec, anchors) : resolvePort(spec)
      );
      return new TlsFronts(listeners, routes, anchors, tls, options);
    } catch (error) {
      for (const listener of anchors) closeQuietly(listener);
      throw error;
    }
  }

  /** Whether there is anything to front. */
  get active(): boolean {
    return this.#routes.length > 0;
  }

  /**
   * Starts the fronts, given the addresses the workers bound (which resolve the relay's port);
   * resolves once every front accepts, to those addresses as the user sees them: the relay
   * listener replaced by the TLS listeners.
   *
   * @throws {Error} when a front cannot open the public listeners.
   */
  async start(bound: ListenSpec[]): Promise<ListenSpec[]> {
    if (!this.active) return bound;
    const relay = findRelay(bound, this.#token);
    if (relay === undefined) throw new Error("the workers did not open the TLS relay listener");
    this.#relayPort = relay.port;
    const fronts = Array.from({ length: Math.max(1, this.#options.fronts) }, () => this.#spawn());
    await Promise.all(fronts.map((front) => front.listening.promise));
    this.#started = true;
    return bound.flatMap((spec) => spec === relay ? this.#routes : [spec]);
  }

  /** Stops accepting new connections (shutdown begun); relayed ones go on until they end. */
  stopAccepting(): void {
    this.#stopping = true;
    for (const front of this.#fronts) this.#send(front, { type: "stop" });
  }

  /**
   * Ends everything once the workers are gone: lets the fronts pass on their connections' last
   * bytes (briefly), then ends the fronts and closes the public ports.
   */
  async close(): Promise<void> {
    this.stopAccepting();
    const fronts = [...this.#fronts];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(fronts.map((front) => front.idle.promise)),
      new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE)),
    ]);
    clearTimeout(timer);
    for (const front of fronts) this.#remove(front);
    for (const listener of this.#anchors.splice(0)) closeQuietly(listener);
  }

  #spawn(): Front {
    const id = this.#nextId++;
    const worker = new Worker(new URL("./tls_front.ts", import.meta.url), {
      type: "module",
      name: `starlight-tls-front-${id}`,
      deno: { permissions: this.#permissions() },
    } as WorkerOptions);
    const front: Front = {
      id,
      worker,
      listening: Promise.withResolvers<void>(),
      idle: Promise.withResolvers<void>(),
      gone: false,
    };
    front.listening.promise.catch(() => {});
    this.#fronts.add(front);
    worker.addEventListener("message", (event: MessageEvent<FromFront>) => {
      this.#onMessage(front, event.data);
    });
    worker.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      this.#died(front, event.message || "error");
    });
    const config: FrontConfig = {
      id,
      listeners: this.#routes,
      listenMode: this.#options.listenMode,
      tls: this.#tls!,
      relayPort: this.#relayPort,
      token: this.#token,
      writeTimeout: this.#options.writeTimeout,
    };
    this.#send(front, { type: "start", config });
    return front;
  }

  /** A front listens on the public ports and connects to the relay; nothing else. */
  #permissions(): Deno.PermissionOptions {
    return {
      net: [...this.#routes.map(formatListenSpec), `127.0.0.1:${this.#relayPort}`],
      read: false,
      write: false,
      env: false,
      run: false,
      ffi: false,
      sys: false,
      import: false,
    };
  }

  #send(front: Front, message: ToFront): void {
    try {
      front.worker.postMessage(message);
    } catch {
      // Already gone.
    }
  }

  #onMessage(front: Front, message: FromFront): void {
    switch (message.type) {
      case "listening":
        this.#failures = 0;
        front.listening.resolve();
        if (this.#stopping) this.#send(front, { type: "stop" });
        break;
      case "failed":
        front.listening.reject(new Error(message.message));
        this.#died(front, message.message);
        break;
      case "log":
        if (message.level === "error") {
          log.error("TLS front {id}: {message}", { id: front.id, message: message.message });
        } else {
          log.warning("TLS front {id}: {message}", { id: front.id, message: message.message });
        }
        break;
      case "idle":
        front.idle.resolve();
        break;
    }
  }

  /** A front failed: replaced after a back-off, unless the server is starting or stopping. */
  #died(front: Front, reason: string): void {
    if (front.gone) return;
    this.#remove(front);
    front.listening.reject(new Error(reason));
    if (this.#stopping || !this.#started) return;
    this.#failures++;
    const delay = Math.min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (this.#failures - 1));
    log.error("TLS front {id} ended: {reason}; replacing it in {seconds} s", {
      id: front.id,
      reason,
      seconds: delay / 1000,
    });
    setTimeout(() => {
      if (!this.#stopping) this.#spawn();
    }, delay);
  }

  #remove(front: Front): void {
    if (front.gone) return;
    front.gone = true;
    front.idle.resolve();
    this.#fronts.delete(front);
    front.worker.terminate();
  }
}

function isTlsSpec(spec: ListenSpec): spec is TcpSpec {
  return spec.kind === "tcp" && !isRelaySpec(spec);
}

/** Binds `spec` as a shared accept queue the fronts join; the real port when it asked for 0. */
function anchor(spec: TcpSpec, anchors: Deno.Listener[]): TcpSpec {
  for (let attempt = 1;; attempt++) {
    const port = spec.port === 0 ? resolvePort(spec).port : spec.port;
    try {
      const listener = listenShared({ hostname: spec.hostname, port });
      anchors.push(listener);
      return { kind: "tcp", hostname: spec.hostname, port: (listener.addr as Deno.NetAddr).port };
    } catch (error) {
      // Another process took the free port between the probe and the bind: probe again.
      if (spec.port !== 0 || !(error instanceof Deno.errors.AddrInUse) || attempt === 5) {
        throw new Error(
          `cannot listen on ${formatListenSpec({ ...spec, port })}: ${(error as Error).message}`,
        );
      }
    }
  }
}

/** `spec` with port 0 replaced by a port free right now. */
function resolvePort(spec: TcpSpec): TcpSpec {
  if (spec.port !== 0) return spec;
  const probe = Deno.listen({ hostname: spec.hostname, port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return { kind: "tcp", hostname: spec.hostname, port };
}
