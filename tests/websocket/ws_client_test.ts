import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import WebSocket from "ws";
import { upgradeWebSocket } from "../../lib/websocket/mod.ts";
import type { StarlightWebSocket } from "../../lib/websocket/socket.ts";
import { Opcode } from "../../lib/websocket/frame.ts";
import { COMPRESSION_THRESHOLD } from "../../lib/websocket/sender.ts";
import {
  clientFrame,
  closeCodeOf,
  parseServerFrames,
  rawConnect,
  readFrames,
  readToEnd,
  serve,
  type TestServer,
  within,
  writeAll,
} from "../_helpers/websocket_fixture.ts";

type Received = { data: Buffer; isBinary: boolean };
type ClientOptions = ConstructorParameters<typeof WebSocket>[2];

/** An echo server that records the sockets it created. */
function echoServer(maxMessageSize?: number): TestServer & { sockets: StarlightWebSocket[] } {
  const sockets: StarlightWebSocket[] = [];
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request, { maxMessageSize });
    sockets.push(socket);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  return Object.assign(server, { sockets });
}

/** A ws client with a queue of received messages. */
async function connect(url: string, options?: ClientOptions) {
  const client = new WebSocket(url, options);
  const inbox: Received[] = [];
  let wake: (() => void) | undefined;
  client.on("message", (data: Buffer, isBinary: boolean) => {
    inbox.push({ data, isBinary });
    wake?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    client.on(
      "close",
      (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }),
    )
  );
  await within(
    2000,
    new Promise((resolve, reject) => {
      client.once("open", resolve);
      client.once("error", reject);
    }),
    "ws open",
  );
  const next = async (): Promise<Received> => {
    await within(
      5000,
      (async () => {
        while (inbox.length === 0) await new Promise<void>((resolve) => wake = resolve);
      })(),
      "ws message",
    );
    return inbox.shift()!;
  };
  const close = async () => {
    client.close(1000);
    return await within(5000, closed, "ws close");
  };
  return { client, next, close, closed };
}

Deno.test("echoes text and binary to the ws client", async () => {
  const server = echoServer();
  const ws = await connect(server.url, { perMessageDeflate: false });
  ws.client.send("hello ws");
  const text = await ws.next();
  assert.equal(text.isBinary, false);
  assert.equal(text.data.toString(), "hello ws");
  ws.client.send(new Uint8Array([9, 8, 7]));
  const binary = await ws.next();
  assert.equal(binary.isBinary, true);
  assert.deepEqual([...binary.data], [9, 8, 7]);
  assert.equal(server.sockets[0].extensions, "");
  assert.deepEqual(await ws.close(), { code: 1000, reason: "" });
  await within(5000, server.close());
});

for (const perMessageDeflate of [false, true]) {
  Deno.test(`reassembles fragmented messages from ws (deflate: ${perMessageDeflate})`, async () => {
    const server = echoServer();
    const ws = await connect(server.url, { perMessageDeflate });
    const big = "x".repeat(5000);
    ws.client.send("frag", { fin: false });
    ws.client.send("men", { fin: false });
    ws.client.send("ted " + big, { fin: true });
    assert.equal((await ws.next()).data.toString(), "fragmented " + big);
    ws.client.send(Buffer.from([1, 2]), { fin: false, binary: true });
    ws.client.send(Buffer.from([3]), { fin: true, binary: true });
    assert.deepEqual([...(await ws.next()).data], [1, 2, 3]);
    await ws.close();
    await within(5000, server.close());
  });
}

Deno.test("negotiates permessage-deflate with ws and round-trips compressed messages", async () => {
  const server = echoServer();
  const ws = await connect(server.url);
  assert.equal(ws.client.extensions, "permessage-deflate");
  assert.equal(server.sockets[0].extensions, "permessage-deflate");
  // Several similar messages: with context takeover later ones refer back to earlier ones.
  for (let i = 0; i < 5; i++) {
    const message = `message ${i}: ` + "the quick brown fox jumps over the lazy dog ".repeat(200);
    ws.client.send(message);
    assert.equal((await ws.next()).data.toString(), message);
  }
  const binary = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
  ws.client.send(binary);
  assert.deepEqual(new Uint8Array((await ws.next()).data), binary);
  const small = "below the compression threshold";
  ws.client.send(small);
  assert.equal((await ws.next()).data.toString(), small);
  ws.client.send("");
  assert.equal((await ws.next()).data.toString(), "");
  await ws.close();
  await within(5000, server.close());
});

const offers: [string, NonNullable<ClientOptions>["perMessageDeflate"], string][] = [
  ["no context takeover either way", {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  }, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
  ["a 9-bit client window", { clientMaxWindowBits: 9 }, "permessage-deflate"],
  [
    "server_max_window_bits=15",
    { serverMaxWindowBits: 15 },
    "permessage-deflate; server_max_window_bits=15",
  ],
  ["server_max_window_bits=10 (declined)", { serverMaxWindowBits: 10 }, ""],
];

for (const [what, perMessageDeflate, extensions] of offers) {
  Deno.test(`permessage-deflate with ${what}`, async () => {
    const server = echoServer();
    const ws = await connect(server.url, { perMessageDeflate });
    assert.equal(server.sockets[0].extensions, extensions);
    assert.equal(ws.client.extensions, extensions === "" ? "" : "permessage-deflate");
    for (let i = 0; i < 3; i++) {
      const message = `${i} ` + "abcdefghij".repeat(COMPRESSION_THRESHOLD);
      ws.client.send(message);
      assert.equal((await ws.next()).data.toString(), message);
    }
    await ws.close();
    await within(5000, server.close());
  });
}

Deno.test("server messages are compressed when worth it", async () => {
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.onopen = () => {
      socket.send("tiny");
      socket.send("y".repeat(COMPRESSION_THRESHOLD * 10));
      socket.close(1000);
    };
    return response;
  });
  const { conn, head, rest } = await rawConnect(server.port, {
    "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
  });
  assert.match(head, /\r\nsec-websocket-extensions: permessage-deflate\r\n/i);
  const { frames } = await within(5000, readFrames(conn, 3, rest));
  await writeAll(conn, clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8])));
  await within(2000, readToEnd(conn));
  assert.deepEqual(frames.map((f) => [f.opcode, f.rsv1]), [
    [Opcode.Text, false],
    [Opcode.Text, true],
    [Opcode.Close, false],
  ]);
  assert.ok(frames[1].payload.length < 200, `compressed to ${frames[1].payload.length} bytes`);
  await within(5000, server.close());
});

Deno.test("a compressed message inflating past maxMessageSize closes with 1009", async () => {
  const server = echoServer(1024 * 1024);
  const ws = await connect(server.url);
  // Zeros compress about 1000:1: the frame is small, the message is not.
  ws.client.send(new Uint8Array(8 * 1024 * 1024));
  assert.equal((await ws.closed).code, 1009);
  await within(5000, server.close());
});

Deno.test("corrupt compressed data closes with 1007", async () => {
  const server = echoServer();
  const { conn, rest } = await rawConnect(server.port, {
    "sec-websocket-extensions": "permessage-deflate",
  });
  await writeAll(
    conn,
    clientFrame(Opcode.Binary, new Uint8Array([0xff, 0xff, 0xff]), { rsv1: true }),
  );
  const frames = parseServerFrames(await within(2000, readToEnd(conn, rest)));
  assert.equal(closeCodeOf(frames.at(-1)!), 1007);
  await within(5000, server.close());
});

Deno.test("RSV1 on a continuation or control frame is a protocol error even with deflate", async () => {
  const server = echoServer();
  for (
    const bytes of [
      [
        clientFrame(Opcode.Text, "a", { fin: false }),
        clientFrame(Opcode.Continuation, "b", { rsv1: true }),
      ],
      [clientFrame(Opcode.Ping, "p", { rsv1: true })],
    ]
  ) {
    const { conn, rest } = await rawConnect(server.port, {
      "sec-websocket-extensions": "permessage-deflate",
    });
    for (const frame of bytes) await writeAll(conn, frame);
    const frames = parseServerFrames(await within(2000, readToEnd(conn, rest)));
    assert.equal(closeCodeOf(frames.at(-1)!), 1002);
  }
  await within(5000, server.close());
});
