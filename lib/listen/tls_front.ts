/**
 * A TLS front: a thread of the supervisor's process that runs no app code. It holds the key,
 * accepts on the public TLS ports, runs each handshake, and relays the plaintext to the workers
 * through their loopback relay listener with a preamble naming the client's real address
 * (`relay_preamble.ts`). Workers, where the app runs, never receive key material: a dependency
 * that patches prototypes finds nothing (issue 13, item 10).
 *
 * Each client is served by its own task: a client that stalls its handshake, or reads nothing,
 * holds up no one else. A handshake not complete within the header timeout ends the connection;
 * after it, the workers' engine applies its own timeouts over the relay.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { encodePreamble, fromHex } from "./relay_preamble.ts";
import { RelayConnector } from "./relay_connector.ts";
import { closeQuietly } from "./wrapped_listener.ts";
import { describeError } from "../log.ts";
import { loadTls, openListener } from "./open.ts";
import type { FromFront, FrontConfig, ToFront } from "./tls_front_protocol.ts";
import type { NodeTlsConn } from "./tls_listener.ts";

/** Accept errors (descriptors exhausted, …) are reported at most this often. */
const ACCEPT_ERROR_EVERY = 1000;

function post(message: FromFront): void {
  self.postMessage(message);
}

self.addEventListener("error", (event: ErrorEvent) => {
  // One client's failure must not end every client's connection.
  event.preventDefault();
  post({
    type: "log",
    level: "error",
    message: `uncaught ${describeError(event.error ?? event.message)}`,
  });
});
self.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  post({
    type: "log",
    level: "error",
    message: `unhandled rejection: ${describeError(event.reason)}`,
  });
});

const listeners: Deno.Listener[] = [];
let connector: RelayConnector | undefined;
let stopping = false;
let lastAcceptError = 0;
let acceptErrors = 0;

async function start(config: FrontConfig): Promise<void> {
  try {
    await loadTls();
    for (const spec of config.listeners) {
      listeners.push(openListener(spec, config.listenMode, config.tls));
    }
  } catch (error) {
    for (const listener of listeners) closeQuietly(listener);
    post({ type: "failed", message: describeError(error) });
    return;
  }
  const relay = new RelayConnector(
    config.writeTimeout,
    (message) => post({ type: "log", level: "warning", message }),
  );
  relay.port = config.relayPort;
  connector = relay;
  const token = fromHex(config.token);
  const handshakeTimeout = config.tls.handshakeTimeout ?? 30_000;
  listeners.forEach((listener, route) =>
    acceptLoop(listener, (conn) => serve(conn, relay, token, route, handshakeTimeout))
  );
  post({ type: "listening" });
}

async function acceptLoop(listener: Deno.Listener, serve: (conn: Deno.Conn) => void) {
  while (!stopping) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (stopping || error instanceof Deno.errors.BadResource) return;
      acceptFailed(error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    serve(conn);
  }
}

function acceptFailed(error: unknown): void {
  acceptErrors++;
  const now = Date.now();
  if (now - lastAcceptError < ACCEPT_ERROR_EVERY) return;
  lastAcceptError = now;
  post({
    type: "log",
    level: "warning",
    message: `TLS accept failed (${acceptErrors} time(s) since the last report): ${
      describeError(error)
    }`,
  });
  acceptErrors = 0;
}

/** Completes the handshake within `timeout`, then relays the connection to a worker. */
async function serve(
  conn: Deno.Conn,
  relay: RelayConnector,
  token: Uint8Array,
  route: number,
  timeout: number,
): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), timeout);
  try {
    await (conn as Deno.TlsConn | NodeTlsConn).handshake();
  } catch {
    closeQuietly(conn);
    return;
  } finally {
    clearTimeout(timer);
  }
  let preamble: Uint8Array;
  try {
    preamble = encodePreamble(
      token,
      route,
      conn.remoteAddr as Deno.NetAddr,
      conn.localAddr as Deno.NetAddr,
    );
  } catch (error) {
    post({ type: "log", level: "warning", message: describeError(error) });
    closeQuietly(conn);
    return;
  }
  await relay.relay(conn, preamble);
  if (stopping) reportIdle();
}

function reportIdle(): void {
  if ((connector?.size ?? 0) === 0) post({ type: "idle" });
}

self.addEventListener("message", (event: MessageEvent<ToFront>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      start(message.config);
      break;
    case "stop":
      stopping = true;
      for (const listener of listeners) closeQuietly(listener);
      reportIdle();
      break;
  }
});
