/**
 * The supervisor's stand-in for a pool with no worker serving (all crashed, or a broken app
 * restarting with back-off): it answers new connections on the shared accept queues at once
 * with `503 Service Unavailable` and `Retry-After`, so that no request waits in the kernel for
 * a worker that may never come, to be run long after its client gave up. It runs no app code
 * and reads nothing but the start of the request.
 *
 * It accepts through listeners of its own on the held sockets (`listenShared`), so standing
 * down closes them and leaves the queue to the workers, without a pending accept to race them.
 *
 * @module
 */

import { listenShared } from "../deno/shared_listen.ts";
import type { ListenSpec } from "../listen/spec.ts";
import { closeQuietly } from "../listen/wrapped_listener.ts";

const BODY = "no worker is serving; try again shortly\n";
const ANSWER = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n" +
    `Cache-Control: no-store\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`,
);
/** How long the stand-in waits for the start of a request before it answers anyway. */
const READ_WAIT = 200;

/**
 * Answers 503 on `specs` (the TCP sockets the supervisor holds) while active.
 *
 * @example
 * ```ts ignore
 * const standIn = new StandIn([{ kind: "tcp", hostname: "127.0.0.1", port: 8080 }]);
 * standIn.set(true); // no worker serves
 * standIn.set(false); // one is back
 * ```
 */
export class StandIn {
  readonly #specs: Extract<ListenSpec, { kind: "tcp" }>[];
  #listeners: Deno.Listener[] = [];
  /** Connections answered since the last {@link takeAnswered}. */
  #answered = 0;

  /** Stands in on the held TCP sockets among `specs`. */
  constructor(specs: ListenSpec[]) {
    this.#specs = specs.filter((spec) => spec.kind === "tcp");
  }

  /** Whether it is answering now. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Starts or stops answering. */
  set(active: boolean): void {
    if (active === this.active) return;
    if (!active) {
      for (const listener of this.#listeners.splice(0)) closeQuietly(listener);
      return;
    }
    for (const spec of this.#specs) {
      try {
        const listener = listenShared({ hostname: spec.hostname, port: spec.port });
        this.#listeners.push(listener);
        this.#serve(listener);
      } catch {
        // The socket is gone (shutting down): nothing to stand in for.
      }
    }
  }

  /** Connections answered with 503 since the last call (for the log). */
  takeAnswered(): number {
    const answered = this.#answered;
    this.#answered = 0;
    return answered;
  }

  async #serve(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      this.#answered++;
      answer(conn);
    }
  }
}

/** Reads what arrives at once (the request's start), answers 503, closes. */
async function answer(conn: Deno.Conn): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), READ_WAIT * 10);
  try {
    // Reading first: closing a socket with unread bytes resets it, and the client might never
    // see the answer.
    const buffer = new Uint8Array(16 * 1024);
    await Promise.race([
      conn.read(buffer),
      new Promise((resolve) => setTimeout(resolve, READ_WAIT)),
    ]);
    let written = 0;
    while (written < ANSWER.length) written += await conn.write(ANSWER.subarray(written));
    await conn.closeWrite();
    while ((await conn.read(buffer)) !== null) {
      // Drained until the client closes, so the close sends no reset.
    }
  } catch {
    // The client left; nothing to answer.
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}
