import assert from "node:assert/strict";
import { upgradeWebSocket } from "../../lib/websocket/mod.ts";
import type { StarlightWebSocket } from "../../lib/websocket/socket.ts";
import { Opcode } from "../../lib/websocket/frame.ts";
import {
  clientFrame,
  closeCodeOf,
  nextEvent,
  rawConnect,
  readFrames,
  readToEnd,
  serve,
  within,
  writeAll,
} from "../_helpers/websocket_fixture.ts";

/** Opens a Deno WebSocket client and waits for it to open. */
async function connect(url: string, protocols?: string | string[]): Promise<WebSocket> {
  const client = new WebSocket(url, protocols);
  await within(2000, nextEvent(client, "open"), "client open");
  return client;
}

/** Closes a client (if still open) and waits for its close event. */
async function closeClient(client: WebSocket): Promise<CloseEvent> {
  const closed = nextEvent<CloseEvent>(client, "close");
  if (client.readyState === WebSocket.OPEN) client.close();
  return await within(5000, closed, "client close");
}

function echoServer() {
  return serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
}

Deno.test("echoes text and binary messages to Deno's WebSocket", async () => {
  const server = echoServer();
  const client = await connect(server.url);
  client.binaryType = "arraybuffer";
  client.send("héllo 👋");
  assert.equal((await within(2000, nextEvent<MessageEvent>(client, "message"))).data, "héllo 👋");
  const binary = new Uint8Array([0, 1, 2, 255]);
  client.send(binary);
  const echoed = (await within(2000, nextEvent<MessageEvent>(client, "message"))).data;
  assert.deepEqual(new Uint8Array(echoed), binary);
  const big = crypto.getRandomValues(new Uint8Array(65536)).map((b, i) => b ^ i);
  const large = new Uint8Array(300_000).map((_, i) => big[i % big.length]);
  client.send(large);
  const echoedLarge = (await within(5000, nextEvent<MessageEvent>(client, "message"))).data;
  assert.deepEqual(new Uint8Array(echoedLarge), large);
  const event = await closeClient(client);
  assert.equal(event.wasClean, true);
  await within(5000, server.close(), "server close");
});

Deno.test("replies outpacing the network slow the reading down instead of failing", async () => {
  // Each 1 KiB request gets 16 KiB of replies: without pausing its reads, the server would queue
  // up to 64 MiB of replies to 4 MiB of requests and trip the send cap (1008).
  let maxBuffered = 0;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      for (let i = 0; i < 16; i++) socket.send(event.data);
      maxBuffered = Math.max(maxBuffered, socket.bufferedAmount);
    };
    return response;
  });
  const { conn, rest } = await rawConnect(server.port);
  const count = 4000;
  const frame = clientFrame(Opcode.Binary, new Uint8Array(1024));
  const requests = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) requests.set(frame, i * frame.length);
  const sending = writeAll(conn, requests);
  // Each reply is a 4-byte header and 1024 bytes of payload.
  let received = rest.length;
  const buffer = new Uint8Array(256 * 1024);
  await within(
    20_000,
    (async () => {
      while (received < count * 16 * 1028) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`closed after ${received} bytes`);
        received += n;
      }
    })(),
    "replies",
  );
  await sending;
  await writeAll(conn, clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8])));
  await within(5000, readToEnd(conn));
  await within(5000, server.close());
  // Reading resumes below 1 MiB queued; one read's worth of replies may come on top.
  assert.ok(maxBuffered < 2 * 1024 * 1024, `${maxBuffered} bytes queued`);
});

Deno.test("socket state, protocol, url and events follow the WebSocket standard", async () => {
  let serverSocket: StarlightWebSocket | undefined;
  const events: string[] = [];
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request, { protocol: "chat" });
    serverSocket = socket;
    assert.equal(socket.readyState, socket.CONNECTING);
    assert.throws(
      () => socket.send("too early"),
      (e) => (e as DOMException).name === "InvalidStateError",
    );
    socket.addEventListener("open", () => events.push(`open:${socket.readyState}`));
    socket.onmessage = (event) => {
      events.push(`message:${event.data}`);
      assert.equal(event.origin, `ws://127.0.0.1:${server.port}`);
    };
    socket.onclose = (event) =>
      events.push(`close:${event.code}:${event.reason}:${event.wasClean}`);
    return response;
  });
  const client = await connect(`${server.url}room?x=1`, ["other", "chat"]);
  assert.equal(client.protocol, "chat");
  client.send("hi");
  await within(
    2000,
    (async () => {
      while (!events.includes("message:hi")) await new Promise((r) => setTimeout(r, 5));
    })(),
  );
  assert.equal(serverSocket!.url, `ws://127.0.0.1:${server.port}/room?x=1`);
  assert.equal(serverSocket!.protocol, "chat");
  assert.equal(serverSocket!.extensions, "");
  assert.equal(serverSocket!.readyState, serverSocket!.OPEN);
  assert.equal(serverSocket!.bufferedAmount, 0);
  client.close(4001, "done");
  await within(5000, nextEvent(client, "close"));
  await within(5000, server.close());
  assert.deepEqual(events, ["open:1", "message:hi", "close:4001:done:true"]);
  assert.equal(serverSocket!.readyState, serverSocket!.CLOSED);
  serverSocket!.send("ignored after close");
});

Deno.test("binaryType: ArrayBuffer by default, Blob on request; Blobs and views can be sent", async () => {
  const kinds: string[] = [];
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    assert.equal(socket.binaryType, "arraybuffer");
    socket.onmessage = (event) => {
      kinds.push(event.data.constructor.name);
      if (event.data instanceof ArrayBuffer) {
        socket.binaryType = "blob";
        // A view into a larger buffer: only its own bytes go out.
        socket.send(new Uint8Array(event.data, 1, 2));
      } else socket.send(event.data);
    };
    return response;
  });
  const client = await connect(server.url);
  client.binaryType = "arraybuffer";
  client.send(new Uint8Array([1, 2, 3, 4]));
  const first = (await within(2000, nextEvent<MessageEvent>(client, "message"))).data;
  assert.deepEqual([...new Uint8Array(first)], [2, 3]);
  client.send(new Uint8Array([5, 6]));
  const second = (await within(2000, nextEvent<MessageEvent>(client, "message"))).data;
  assert.deepEqual([...new Uint8Array(second)], [5, 6]);
  await closeClient(client);
  await within(5000, server.close());
  assert.deepEqual(kinds, ["ArrayBuffer", "Blob"]);
});

Deno.test("several clients broadcast through one server", async () => {
  const room = new Set<StarlightWebSocket>();
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.onopen = () => room.add(socket);
    socket.onmessage = (event) => room.forEach((peer) => peer.send(event.data));
    socket.onclose = () => room.delete(socket);
    return response;
  });
  const clients = await Promise.all([1, 2, 3].map(() => connect(server.url)));
  await within(
    2000,
    (async () => {
      while (room.size < 3) await new Promise((r) => setTimeout(r, 5));
    })(),
  );
  const received = clients.map((client) => {
    const got: string[] = [];
    client.onmessage = (event) => got.push(event.data);
    return got;
  });
  clients.forEach((client, i) => client.send(`from ${i}`));
  await within(
    3000,
    (async () => {
      while (received.some((got) => got.length < 3)) await new Promise((r) => setTimeout(r, 5));
    })(),
  );
  for (const got of received) assert.deepEqual([...got].sort(), ["from 0", "from 1", "from 2"]);
  await Promise.all(clients.map(closeClient));
  await within(5000, server.close());
  assert.equal(room.size, 0);
});

Deno.test("the server closes with a code and reason; the client sees them", async () => {
  let serverClose: Promise<CloseEvent> | undefined;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    serverClose = nextEvent<CloseEvent>(socket, "close");
    socket.onmessage = () => socket.close(4321, "bye now");
    return response;
  });
  const client = await connect(server.url);
  const closed = nextEvent<CloseEvent>(client, "close");
  client.send("close please");
  const event = await within(5000, closed);
  assert.equal(event.code, 4321);
  assert.equal(event.reason, "bye now");
  assert.equal(event.wasClean, true);
  const onServer = await within(5000, serverClose!);
  assert.equal(onServer.code, 4321);
  assert.equal(onServer.wasClean, true);
  await within(5000, server.close());
});

Deno.test("the client closes with a code and reason; the server sees them", async () => {
  let serverClose: Promise<CloseEvent> | undefined;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    serverClose = nextEvent<CloseEvent>(socket, "close");
    return response;
  });
  const client = await connect(server.url);
  const closed = nextEvent<CloseEvent>(client, "close");
  client.close(3000, "client leaving");
  const onServer = await within(5000, serverClose!);
  assert.equal(onServer.code, 3000);
  assert.equal(onServer.reason, "client leaving");
  assert.equal(onServer.wasClean, true);
  const event = await within(5000, closed);
  assert.equal(event.code, 3000);
  await within(5000, server.close());
});

Deno.test("close() validates its code and reason like the standard", async () => {
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.onopen = () => {
      const invalid = (code: number) =>
        assert.throws(
          () => socket.close(code),
          (e) => (e as DOMException).name === "InvalidAccessError",
        );
      [999, 1004, 1005, 1006, 1015, 2999, 5000].forEach(invalid);
      assert.throws(
        () => socket.close(1000, "x".repeat(124)),
        (e) => (e as DOMException).name === "SyntaxError",
      );
      socket.close(1011, "server-side codes are allowed");
    };
    return response;
  });
  const client = new WebSocket(server.url);
  const event = await within(5000, nextEvent<CloseEvent>(client, "close"));
  assert.equal(event.code, 1011);
  await within(5000, server.close());
});

Deno.test("a ping gets a pong with the same payload", async () => {
  const server = echoServer();
  const { conn, head, rest } = await rawConnect(server.port);
  assert.match(head, /^HTTP\/1\.1 101 /);
  await writeAll(conn, clientFrame(Opcode.Ping, "are you there?"));
  const { frames } = await within(2000, readFrames(conn, 1, rest));
  assert.equal(frames[0].opcode, Opcode.Pong);
  assert.equal(new TextDecoder().decode(frames[0].payload), "are you there?");
  await writeAll(conn, clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8])));
  const closing = await within(5000, readToEnd(conn));
  assert.equal(closing[0], 0x88);
  await within(5000, server.close());
});

Deno.test("draining sends 1001 Going Away and closes", async () => {
  let serverClose: Promise<CloseEvent> | undefined;
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    serverClose = nextEvent<CloseEvent>(socket, "close");
    return response;
  });
  const client = await connect(server.url);
  const closed = nextEvent<CloseEvent>(client, "close");
  server.drain.abort();
  const event = await within(5000, closed);
  assert.equal(event.code, 1001);
  assert.equal(event.wasClean, true);
  assert.equal((await within(5000, serverClose!)).code, 1001);
  await within(5000, server.close());
});

Deno.test("idleTimeout pings a silent peer, then closes with 1001", async () => {
  let serverEvents: string[] = [];
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request, { idleTimeout: 0.2 });
    serverEvents = [];
    socket.onerror = (event) => serverEvents.push(`error:${(event as ErrorEvent).message}`);
    socket.onclose = (event) => serverEvents.push(`close:${event.code}:${event.wasClean}`);
    return response;
  });
  // A raw client that never answers pings.
  const { conn, rest } = await rawConnect(server.port);
  const started = performance.now();
  const bytes = await within(3000, readToEnd(conn, rest));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 350, `closed after ${elapsed} ms`);
  const { frames } = await readFrames(conn, 2, bytes);
  assert.equal(frames[0].opcode, Opcode.Ping);
  assert.equal(frames[1].opcode, Opcode.Close);
  assert.equal(closeCodeOf(frames[1]), 1001);
  await within(5000, server.close());
  assert.deepEqual(serverEvents, ["error:No response from ping frame.", "close:1001:false"]);

  // A peer that answers (Deno's client replies to pings) stays connected.
  const server2 = serve((request) => {
    const { socket, response } = upgradeWebSocket(request, { idleTimeout: 0.1 });
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  const client = await connect(server2.url);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(client.readyState, WebSocket.OPEN);
  client.send("still here");
  assert.equal((await within(2000, nextEvent<MessageEvent>(client, "message"))).data, "still here");
  await closeClient(client);
  await within(5000, server2.close());
});

Deno.test("errors thrown by listeners are logged and do not break the connection", async () => {
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const server = serve((request) => {
      const { socket, response } = upgradeWebSocket(request);
      socket.onmessage = () => {
        throw new Error("handler bug");
      };
      socket.addEventListener("message", async (event) => {
        await Promise.resolve();
        socket.send(`${event.data} (after an async throw)`);
        throw new Error("async handler bug");
      });
      return response;
    });
    const client = await connect(server.url);
    client.send("one");
    assert.equal(
      (await within(2000, nextEvent<MessageEvent>(client, "message"))).data,
      "one (after an async throw)",
    );
    client.send("two");
    assert.equal(
      (await within(2000, nextEvent<MessageEvent>(client, "message"))).data,
      "two (after an async throw)",
    );
    await closeClient(client);
    await within(5000, server.close());
  } finally {
    console.error = original;
  }
  assert.equal(logged.length, 4);
});

Deno.test("close() before the connection starts closes it without an open event", async () => {
  const events: string[] = [];
  const server = serve((request) => {
    const { socket, response } = upgradeWebSocket(request);
    socket.onopen = () => events.push("open");
    socket.onclose = (event) => events.push(`close:${event.code}`);
    socket.close(4002, "not now");
    assert.equal(socket.readyState, socket.CLOSING);
    return response;
  });
  const client = new WebSocket(server.url);
  const event = await within(5000, nextEvent<CloseEvent>(client, "close"));
  assert.deepEqual([event.code, event.reason], [4002, "not now"]);
  await within(5000, server.close());
  assert.deepEqual(events, ["close:4002"]);
});
