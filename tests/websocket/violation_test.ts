import assert from "node:assert/strict";
import { upgradeWebSocket, websocketHandshakeError } from "../../lib/websocket/mod.ts";
import { Opcode } from "../../lib/websocket/frame.ts";
import { CLOSE_TIMEOUT_MS, MAX_BUFFERED_AMOUNT } from "../../lib/websocket/connection.ts";
import {
  clientFrame,
  closeCodeOf,
  concat,
  nextEvent,
  parseServerFrames,
  rawConnect,
  readToEnd,
  serve,
  type ServerFrame,
  within,
  writeAll,
} from "../_helpers/websocket_fixture.ts";

const MAX_MESSAGE_SIZE = 1024;

/** Serves an echo app; records the server-side close events. */
function echoServer() {
  const closes: CloseEvent[] = [];
  const errors: string[] = [];
  const server = serve((request) => {
    const refusal = websocketHandshakeError(request);
    if (refusal) return refusal;
    const { socket, response } = upgradeWebSocket(request, { maxMessageSize: MAX_MESSAGE_SIZE });
    socket.onmessage = (event) => socket.send(event.data);
    socket.onerror = (event) => errors.push((event as ErrorEvent).message);
    socket.onclose = (event) => closes.push(event);
    return response;
  });
  return { server, closes, errors };
}

/** Sends `bytes` after the handshake; returns the frames received until the server hung up. */
async function sendRaw(port: number, bytes: Uint8Array): Promise<ServerFrame[]> {
  const { conn, head, rest } = await rawConnect(port);
  assert.match(head, /^HTTP\/1\.1 101 /);
  await writeAll(conn, bytes);
  // The server must close the TCP connection itself, well before the close timeout.
  return parseServerFrames(await within(2000, readToEnd(conn, rest), "server hang-up"));
}

const violations: [string, () => Uint8Array, number][] = [
  ["an unmasked frame", () => clientFrame(Opcode.Text, "hi", { mask: null }), 1002],
  ["RSV1 without an extension", () => clientFrame(Opcode.Text, "hi", { rsv1: true }), 1002],
  ["RSV2", () => {
    const frame = clientFrame(Opcode.Text, "hi");
    frame[0] |= 0x20;
    return frame;
  }, 1002],
  ["an unknown opcode", () => clientFrame(0x3 as Opcode, "hi"), 1002],
  ["a 126-byte ping", () => clientFrame(Opcode.Ping, new Uint8Array(126)), 1002],
  ["a fragmented ping", () => clientFrame(Opcode.Ping, "x", { fin: false }), 1002],
  ["a continuation with no message", () => clientFrame(Opcode.Continuation, "x"), 1002],
  ["a new message inside a fragmented one", () =>
    concat([
      clientFrame(Opcode.Text, "a", { fin: false }),
      clientFrame(Opcode.Text, "b"),
    ]), 1002],
  ["invalid UTF-8 text", () => clientFrame(Opcode.Text, new Uint8Array([0x68, 0xc3, 0x28])), 1007],
  ["invalid UTF-8 across fragments", () =>
    concat([
      clientFrame(Opcode.Text, new Uint8Array([0xe2, 0x82]), { fin: false }),
      clientFrame(Opcode.Continuation, new Uint8Array([0x41])),
    ]), 1007],
  [
    "an invalid UTF-8 close reason",
    () => clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8, 0xff])),
    1007,
  ],
  ["a one-byte close payload", () => clientFrame(Opcode.Close, new Uint8Array([0x03])), 1002],
  ["close code 1005", () => clientFrame(Opcode.Close, new Uint8Array([0x03, 0xed])), 1002],
  ["close code 1006", () => clientFrame(Opcode.Close, new Uint8Array([0x03, 0xee])), 1002],
  ["close code 1015", () => clientFrame(Opcode.Close, new Uint8Array([0x03, 0xf7])), 1002],
  ["close code 999", () => clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe7])), 1002],
  ["close code 5000", () => clientFrame(Opcode.Close, new Uint8Array([0x13, 0x88])), 1002],
  [
    "an oversized frame",
    () => clientFrame(Opcode.Binary, new Uint8Array(MAX_MESSAGE_SIZE + 1)),
    1009,
  ],
  ["an oversized fragmented message", () =>
    concat([
      clientFrame(Opcode.Binary, new Uint8Array(MAX_MESSAGE_SIZE), { fin: false }),
      clientFrame(Opcode.Continuation, new Uint8Array(1)),
    ]), 1009],
  ["a 64-bit length with the top bit set", () => {
    const frame = new Uint8Array(14);
    frame.set([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    return frame;
  }, 1002],
];

for (const [what, bytes, code] of violations) {
  Deno.test(`${what} closes the connection with ${code}`, async () => {
    const { server, closes, errors } = echoServer();
    const frames = await sendRaw(server.port, bytes());
    const close = frames.at(-1)!;
    assert.equal(close.opcode, Opcode.Close);
    assert.equal(closeCodeOf(close), code);
    await within(5000, server.close());
    assert.equal(closes.length, 1);
    assert.equal(closes[0].code, code);
    assert.equal(closes[0].wasClean, false);
    assert.equal(errors.length, 1);
  });
}

Deno.test("a peer close with an allowed code is echoed and the server hangs up", async () => {
  const { server, closes } = echoServer();
  for (
    const [code, echoed] of [[1000, 1000], [1001, 1001], [1003, 1003], [1014, 1014], [3000, 3000], [
      4999,
      4999,
    ]]
  ) {
    const frames = await sendRaw(
      server.port,
      clientFrame(Opcode.Close, new Uint8Array([code >> 8, code & 0xff, 0x6f, 0x6b])),
    );
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]), echoed);
  }
  const empty = await sendRaw(server.port, clientFrame(Opcode.Close, new Uint8Array(0)));
  assert.equal(empty[0].payload.length, 0);
  await within(5000, server.close());
  assert.deepEqual(closes.map((e) => [e.code, e.wasClean]), [
    [1000, true],
    [1001, true],
    [1003, true],
    [1014, true],
    [3000, true],
    [4999, true],
    [1005, true],
  ]);
  assert.equal(closes[0].reason, "ok");
});

Deno.test("fragments interleaved with pings are reassembled; the pings answered in order", async () => {
  const { server } = echoServer();
  const frames = await sendRaw(
    server.port,
    concat([
      clientFrame(Opcode.Text, "Hel", { fin: false }),
      clientFrame(Opcode.Ping, "p1"),
      clientFrame(Opcode.Continuation, "lo, ", { fin: false }),
      clientFrame(Opcode.Pong, "unsolicited"),
      clientFrame(Opcode.Continuation, "wörld"),
      clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8])),
    ]),
  );
  const decode = (frame: ServerFrame) => new TextDecoder().decode(frame.payload);
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.opcode === Opcode.Close ? closeCodeOf(f) : decode(f)]),
    [
      [Opcode.Pong, "p1"],
      [Opcode.Text, "Hello, wörld"],
      [Opcode.Close, 1000],
    ],
  );
  await within(5000, server.close());
});

Deno.test("the connection ending without a close frame reports 1006", async () => {
  const { server, closes, errors } = echoServer();
  const { conn } = await rawConnect(server.port);
  await writeAll(conn, clientFrame(Opcode.Text, "hi", { fin: false }));
  conn.close();
  await within(5000, server.close());
  assert.deepEqual(closes.map((e) => [e.code, e.wasClean]), [[1006, false]]);
  assert.deepEqual(errors, []);
});

Deno.test("a peer that never reads is cut off once the send buffer passes the cap", async () => {
  let closed: Promise<CloseEvent> | undefined;
  const amounts: number[] = [];
  let overflowAt = 0;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    closed = nextEvent<CloseEvent>(socket, "close");
    socket.onopen = () => {
      // Keeps sending while the first write is stuck in full kernel buffers.
      const timer = setInterval(() => {
        if (socket.readyState !== socket.OPEN) {
          overflowAt = performance.now();
          return clearInterval(timer);
        }
        socket.send(new Uint8Array(2 * 1024 * 1024));
        amounts.push(socket.bufferedAmount);
      }, 5);
    };
    return response;
  });
  const { conn } = await rawConnect(server.port);
  const event = await within(10_000, closed!, "server close after overflow");
  const cutAfter = performance.now() - overflowAt;
  assert.equal(event.code, 1008);
  assert.equal(event.wasClean, false);
  assert.ok(Math.max(...amounts) <= MAX_BUFFERED_AMOUNT + 2 * 1024 * 1024);
  // The close frame cannot get through, so the close timeout ends the connection.
  assert.ok(
    cutAfter > CLOSE_TIMEOUT_MS - 1000 && cutAfter < CLOSE_TIMEOUT_MS + 3000,
    `cut after ${cutAfter} ms`,
  );
  conn.close();
  await within(5000, server.close());
});

Deno.test("handshake errors: 400 for a bad request, 426 for a wrong version", async () => {
  const { server } = echoServer();
  const cases: [Record<string, string | null>, number, string?][] = [
    [{ "sec-websocket-key": null }, 400],
    [{ "sec-websocket-key": "dG9vIHNob3J0" }, 400],
    [{ upgrade: null }, 400],
    [{ upgrade: "h2c" }, 400],
    [{ connection: "keep-alive" }, 400],
    [{ "sec-websocket-version": "8" }, 426, "13"],
    [{ "sec-websocket-version": null }, 426, "13"],
  ];
  for (const [headers, status, version] of cases) {
    const { conn, head } = await rawConnect(server.port, headers);
    conn.close();
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(headers));
    const versionHeader = /\r\nsec-websocket-version: ([^\r]*)/i.exec(head)?.[1];
    assert.equal(versionHeader, version);
  }
  const { conn, head } = await rawConnect(server.port, {}, "POST / HTTP/1.1");
  conn.close();
  assert.match(head, /^HTTP\/1\.1 400 /);
  await within(5000, server.close());
});

Deno.test("a violation during our closing handshake still lets our close frame out", async () => {
  let closed: Promise<CloseEvent> | undefined;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    closed = nextEvent<CloseEvent>(socket, "close");
    socket.onopen = () => socket.close(4000, "closing first");
    return response;
  });
  const { conn, rest } = await rawConnect(server.port);
  await writeAll(conn, clientFrame(Opcode.Text, "unmasked", { mask: null }));
  const frames = parseServerFrames(await within(2000, readToEnd(conn, rest)));
  assert.deepEqual(frames.map(closeCodeOf), [4000]);
  const event = await within(2000, closed!);
  assert.equal(event.code, 1002);
  assert.equal(event.wasClean, false);
  await within(5000, server.close());
});

Deno.test("close() waits a few seconds for the peer's close frame, then hangs up", async () => {
  let closed: Promise<CloseEvent> | undefined;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    closed = nextEvent<CloseEvent>(socket, "close");
    socket.onopen = () => socket.close(1000);
    return response;
  });
  const started = performance.now();
  const { conn, rest } = await rawConnect(server.port);
  // The peer reads but never answers the close frame.
  const frames = parseServerFrames(await within(8000, readToEnd(conn, rest)));
  const elapsed = performance.now() - started;
  assert.deepEqual(frames.map(closeCodeOf), [1000]);
  assert.ok(
    elapsed > CLOSE_TIMEOUT_MS - 500 && elapsed < CLOSE_TIMEOUT_MS + 3000,
    `hung up after ${elapsed} ms`,
  );
  const event = await within(2000, closed!);
  assert.deepEqual([event.code, event.wasClean], [1006, false]);
  await within(5000, server.close());
});

Deno.test("18 MB of empty continuation frames cost no memory and end with 1009 (issue 13, item 2)", async () => {
  const { server, closes } = echoServer();
  const { conn, rest } = await rawConnect(server.port);
  // An empty masked continuation frame is 6 bytes: 1 MiB of them, sent 18 times.
  const empty = clientFrame(Opcode.Continuation, new Uint8Array(0), { fin: false });
  const chunk = new Uint8Array(Math.floor((1 << 20) / empty.length) * empty.length);
  for (let at = 0; at < chunk.length; at += empty.length) chunk.set(empty, at);
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  const received = readToEnd(conn, rest);
  try {
    await writeAll(conn, clientFrame(Opcode.Text, new Uint8Array(0), { fin: false }));
    for (let i = 0; i < 18; i++) await writeAll(conn, chunk);
  } catch {
    // The server hung up once the bound was passed.
  }
  const ended = await within(10_000, received, "server hang-up").catch((error: Error) => error);
  clearInterval(sampler);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  const grown = (peak - before) / (1 << 20);
  if (ended instanceof Error) conn.close();
  assert.ok(grown < 64, `RSS grew by ${grown.toFixed(0)} MiB`);
  if (ended instanceof Error) throw ended;
  assert.equal(closeCodeOf(parseServerFrames(ended).at(-1)!), 1009);
  await within(5000, server.close());
  assert.deepEqual(closes.map((e) => e.code), [1009]);
});
