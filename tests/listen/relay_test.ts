/**
 * The relay between the supervisor's side (UNIX sockets, TLS fronts) and the workers: the
 * preamble, the workers' relay listener, and the connector that copies bytes both ways.
 */

import assert from "node:assert/strict";
import {
  decodePreamble,
  encodePreamble,
  fromHex,
  MAX_PREAMBLE_BYTES,
  RELAY_TOKEN_BYTES,
  toHex,
} from "../../lib/listen/relay_preamble.ts";
import { RelayListener } from "../../lib/listen/relay_listener.ts";
import { RelayConnector } from "../../lib/listen/relay_connector.ts";
import { WrappedListener } from "../../lib/listen/wrapped_listener.ts";
import type { ListenSpec } from "../../lib/listen/spec.ts";

const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
const remote: Deno.NetAddr = { transport: "tcp", hostname: "2001:db8::7", port: 50123 };
const local: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.1", port: 443 };
const routes: ListenSpec[] = [
  { kind: "unix", path: "/run/app.sock" },
  { kind: "tcp", hostname: "0.0.0.0", port: 443 },
];

Deno.test("a preamble carries the route and both addresses, whatever the split of the bytes", () => {
  const bytes = encodePreamble(token, 1, remote, local);
  assert.ok(bytes.length <= MAX_PREAMBLE_BYTES);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.equal(decodePreamble(bytes.subarray(0, cut), token, 2), null, `cut at ${cut}`);
  }
  const withRequest = new Uint8Array([...bytes, ...new TextEncoder().encode("GET / HTTP/1.1")]);
  assert.deepEqual(decodePreamble(withRequest, token, 2), {
    route: 1,
    remote,
    local,
    length: bytes.length,
  });
  assert.deepEqual(decodePreamble(encodePreamble(token, 0), token, 2), {
    route: 0,
    remote: undefined,
    local: undefined,
    length: RELAY_TOKEN_BYTES + 3,
  });
  assert.deepEqual(fromHex(toHex(token)), token);
});

Deno.test("a preamble with a wrong token, route or address is refused; never on part of the token", () => {
  const bytes = encodePreamble(token, 1, remote, local);
  const wrong = bytes.slice();
  wrong[0] ^= 1;
  // Judging the first bytes alone would let a stranger find the token a byte at a time.
  assert.equal(decodePreamble(wrong.subarray(0, RELAY_TOKEN_BYTES), token, 2), null);
  assert.equal(decodePreamble(wrong, token, 2), undefined);
  assert.equal(decodePreamble(bytes, token, 1), undefined, "route 1 of 1");
  const forged = (host: string) => {
    const out = bytes.slice(0, RELAY_TOKEN_BYTES + 1);
    const text = new TextEncoder().encode(host);
    return new Uint8Array([...out, text.length, ...text, 0, 80, 1, 0x31, 0, 80]);
  };
  assert.equal(decodePreamble(forged("1.2.3.4\r\nX"), token, 2), undefined, "CRLF in a host");
  assert.equal(decodePreamble(forged("a b"), token, 2), undefined, "space in a host");
  assert.equal(decodePreamble(forged("1.2.3.4"), token, 2)?.remote?.hostname, "1.2.3.4");
  // A client address without the listener's, or a length past the limit.
  const half = new Uint8Array([
    ...encodePreamble(token, 1, remote, local).subarray(0, 33),
    1,
    0x31,
    0,
    80,
    0,
  ]);
  assert.equal(decodePreamble(half, token, 2), undefined);
  const long = new Uint8Array([...bytes.subarray(0, 33), 200, ...new Uint8Array(202)]);
  assert.equal(decodePreamble(long, token, 2), undefined);
  assert.throws(() => encodePreamble(token, 256), RangeError);
  assert.throws(
    () => encodePreamble(token, 0, { ...remote, hostname: "evil\nhost" }, local),
    RangeError,
  );
});

async function connect(port: number, bytes?: Uint8Array): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (bytes !== undefined) await conn.write(bytes);
  return conn;
}

Deno.test("silent strangers on the relay port hold up no relayed connection (issue 13, item 15)", async () => {
  const listener = new RelayListener(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    token,
    routes,
  );
  const port = (listener.addr as Deno.NetAddr).port;
  // Five strangers connect first and send nothing (or half a preamble).
  const strangers = await Promise.all([
    ...Array.from({ length: 4 }, () => connect(port)),
    connect(port, token.subarray(0, 20)),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = performance.now();
  const honest = await connect(
    port,
    new Uint8Array([...encodePreamble(token, 1, remote, local), 0x41]),
  );
  const accepted = await listener.accept();
  const waited = performance.now() - started;
  assert.ok(waited < 500, `the relayed connection waited ${waited.toFixed(0)} ms`);
  assert.deepEqual(accepted.remoteAddr, remote);
  assert.deepEqual(accepted.localAddr, local);
  const first = new Uint8Array(8);
  assert.equal(await accepted.read(first), 1);
  assert.equal(first[0], 0x41);
  // The strangers are dropped within the preamble timeout, unanswered.
  for (const stranger of strangers) {
    assert.equal(await stranger.read(new Uint8Array(8)).catch(() => null), null);
    stranger.close();
  }
  accepted.close();
  honest.close();
  listener.close();
  await assert.rejects(listener.accept(), Deno.errors.BadResource);
});

Deno.test("a relayed client that stops reading is cut once a write has waited the write timeout", async () => {
  // The workers' side: answers every connection with far more than socket buffers hold.
  const backend = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await backend.accept();
    const chunk = new Uint8Array(1 << 20);
    try {
      for (let i = 0; i < 64; i++) await conn.write(chunk);
    } catch {
      // Cut by the relay.
    }
    conn.close();
  })();
  // The client's side: a TCP pair whose far end never reads.
  const front = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sleeper = await Deno.connect({ hostname: "127.0.0.1", port: front.addr.port });
  const client = await front.accept();
  const warnings: string[] = [];
  const connector = new RelayConnector(500, (message) => warnings.push(message));
  connector.port = backend.addr.port;
  const started = performance.now();
  await connector.relay(client, encodePreamble(token, 0));
  const took = performance.now() - started;
  assert.ok(took > 400 && took < 3000, `relayed for ${took.toFixed(0)} ms`);
  assert.equal(connector.size, 0);
  assert.deepEqual(warnings, []);
  await served;
  sleeper.close();
  front.close();
  backend.close();
});

/**
 * `count` clients connected to `inner`, and what an engine's accept loop takes from `listener`
 * until it rejects (`BadResource`, as a closed listener must).
 */
async function closingScene(inner: Deno.TcpListener, listener: Deno.Listener, count: number) {
  const clients = await Promise.all(
    Array.from(
      { length: count },
      () => Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port }),
    ),
  );
  const taken: Deno.Conn[] = [];
  const loop = (async () => {
    for (;;) {
      try {
        taken.push(await listener.accept());
      } catch (error) {
        assert.ok(error instanceof Deno.errors.BadResource, String(error));
        return;
      }
    }
  })();
  // Every connection taken from the kernel and awaiting its preamble.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    clients,
    taken,
    loop,
    [Symbol.dispose]() {
      for (const conn of [...clients, ...taken]) {
        try {
          conn.close();
        } catch {
          // Closed by the listener.
        }
      }
    },
  };
}

Deno.test("relay listener: connections verified together after it closed are all handed out", async () => {
  // Several preambles checked in one turn of the event loop, after `close()`: the first wakes
  // the accept loop, and the others must wait for it to come back rather than be dropped.
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listener = new RelayListener(inner, token, routes);
  using scene = await closingScene(inner, listener, 6);
  listener.close();
  const preamble = encodePreamble(token, 1, remote, local);
  await Promise.all(scene.clients.map((client) => client.write(preamble)));
  await scene.loop;
  assert.equal(scene.taken.length, scene.clients.length);
  for (const conn of scene.taken) assert.deepEqual(conn.remoteAddr, remote);
});

Deno.test("relay listener behind the fair-share gate: connections verified after the close still reach the engine", async () => {
  // A retiring worker closes the gate (`WrappedListener`) over its relay listener; the relay
  // connections whose preamble was still being read must come through, not wait unanswered
  // until the worker ends.
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const gate = new WrappedListener(
    new RelayListener(inner, token, routes),
    (conn) => conn,
    () => true,
  );
  using scene = await closingScene(inner, gate, 3);
  gate.close();
  // One at a time: the gate hands out the first while the others are still being checked.
  for (const client of scene.clients) {
    await client.write(encodePreamble(token, 1, remote, local));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await scene.loop;
  assert.equal(scene.taken.length, scene.clients.length);
  for (const conn of scene.taken) assert.deepEqual(conn.remoteAddr, remote);
});
