/**
 * The relay's sending side, shared by the supervisor's UNIX-socket relay and the TLS fronts: each
 * client connection gets its own loopback connection to the workers' relay listener
 * (`relay_listener.ts`), which starts with a preamble, then bytes are copied both ways until
 * either side ends.
 *
 * Copying is plain `read`/`write` with a 16 KiB buffer per direction (`ReadableStream.pipeTo`
 * measured 3× slower). The workers' engine keeps its own timeouts over the loopback side; the
 * one thing it cannot see is a client that stops reading while the relay writes to it, so the
 * relay ends a connection whose client write has been stuck for longer than the engine's write
 * timeout.
 *
 * @module
 */

import { closeQuietly, writeAll } from "./wrapped_listener.ts";
import { socketReader } from "../deno/socket_read.ts";

const BUFFER = 16 * 1024;
/** How long to keep trying the workers when none is listening (all restarting at once). */
const CONNECT_PATIENCE = 3000;
/** Longest a client gets to take the last bytes and the end of the stream (TLS close_notify). */
const CLOSE_GRACE = 2000;

/** A client connection and the worker connection it is relayed to. */
interface Pair {
  client: Deno.Conn;
  backend: Deno.Conn | undefined;
  /** When the write to the client now in progress began (0: none). */
  writingSince: number;
}

/**
 * Relays client connections to the workers' loopback relay listener.
 *
 * @example
 * ```ts ignore
 * const connector = new RelayConnector(300_000, (message) => console.warn(message));
 * connector.port = relayPort; // once the workers listen
 * connector.relay(client, encodePreamble(token, route)); // settles when the connection ends
 * ```
 */
export class RelayConnector {
  /** The workers' relay listener port on 127.0.0.1 (0 until known). */
  port = 0;
  readonly #writeTimeout: number;
  readonly #warn: (message: string) => void;
  readonly #pairs = new Set<Pair>();
  readonly #idle: (() => void)[] = [];
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #warned = false;

  /**
   * `writeTimeout`: ms a write to a client may take (the engine's `--timeout`); `warn` reports
   * that no worker accepts (once until one does again).
   */
  constructor(writeTimeout: number, warn: (message: string) => void) {
    this.#writeTimeout = writeTimeout;
    this.#warn = warn;
  }

  /** Connections being relayed. */
  get size(): number {
    return this.#pairs.size;
  }

  /**
   * Relays `client` to a worker, the worker's relay listener first reading `preamble`; settles
   * (never rejects) once both connections are closed.
   */
  async relay(client: Deno.Conn, preamble: Uint8Array): Promise<void> {
    const pair: Pair = { client, backend: undefined, writingSince: 0 };
    this.#pairs.add(pair);
    this.#startSweeper();
    let backend: Deno.Conn;
    try {
      const connected = await this.#connect();
      if (connected === undefined || !this.#pairs.has(pair)) {
        if (connected !== undefined) closeQuietly(connected);
        this.#end(pair);
        return;
      }
      backend = pair.backend = connected;
      await writeAll(backend, preamble);
    } catch {
      this.#end(pair);
      return;
    }
    // Client → worker: a client that half-closes still gets its response.
    const upstream = (async () => {
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
    // Worker → client: when the worker closes, the client's connection ends too.
    const buffer = new Uint8Array(BUFFER);
    const read = socketReader(backend);
    try {
      for (;;) {
        const n = await read(buffer);
        if (n === 0) break;
        pair.writingSince = Date.now();
        await writeAll(client, buffer.subarray(0, n));
        pair.writingSince = 0;
      }
      pair.writingSince = Date.now();
      await deadline(client.closeWrite(), CLOSE_GRACE);
    } catch {
      // Either side went away.
    }
    this.#end(pair);
    await upstream;
  }

  /**
   * Settles once no connection is relayed any more, or after a short grace (the workers are gone:
   * what is left is their last bytes on the way to clients).
   */
  drained(): Promise<void> {
    if (this.#pairs.size === 0) return Promise.resolve();
    return deadline(new Promise<void>((resolve) => this.#idle.push(resolve)), CLOSE_GRACE)
      .catch(() => {});
  }

  /** Ends every relayed connection, and relays no more. */
  close(): void {
    this.#closed = true;
    for (const pair of [...this.#pairs]) this.#end(pair);
  }

  async #connect(): Promise<Deno.TcpConn | undefined> {
    const until = Date.now() + CONNECT_PATIENCE;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.setNoDelay(true);
        this.#warned = false;
        return conn;
      } catch (error) {
        if (this.#closed || Date.now() >= until) {
          if (!this.#warned) {
            this.#warned = true;
            this.#warn(`relay: no worker accepts: ${(error as Error).message}`);
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
    if (this.#pairs.size > 0) return;
    this.#stopSweeper();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Once a second: ends connections whose client has not taken a write for too long. */
  #startSweeper(): void {
    if (this.#sweeper !== undefined || !Number.isFinite(this.#writeTimeout)) return;
    const sweeper = setInterval(() => {
      const now = Date.now();
      for (const pair of [...this.#pairs]) {
        if (pair.writingSince !== 0 && now - pair.writingSince > this.#writeTimeout) {
          this.#end(pair);
        }
      }
    }, Math.min(1000, this.#writeTimeout));
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

/** `promise`, or a rejection after `ms`. */
function deadline(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
