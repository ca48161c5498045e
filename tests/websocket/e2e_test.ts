/**
 * WebSocket through the real server: the CLI started as a user would (`startServer`), apps
 * using `upgradeWebSocket` from `mod.ts`, and three kinds of clients (Deno's `WebSocket`, the
 * `ws` package, raw frames over TCP). Covers echo, binary, fragments, ping/pong, idle pings,
 * close codes, broadcast in one worker and across two (the chat example), protocol violations
 * that must end only their own connection, SIGTERM and SIGHUP (1001 Going Away), and the chat
 * example running under `deno serve` with its one line swapped back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { rawExchange, repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import {
  clientFrame,
  closeCodeOf,
  closeFrame,
  closeReasonOf,
  concat,
  DenoClient,
  Opcode,
  RawClient,
  type ServerFrame,
  WAIT_MS,
  within,
  writeAll,
  WsClient,
} from "../_helpers/websocket_clients.ts";
import { handshakeHeaders, readFrames, readHead } from "../_helpers/websocket_fixture.ts";

const ECHO_APP = `${repoRoot}tests/fixtures/websocket/echo_app.ts`;
const CHAT_PROBE = `${repoRoot}tests/fixtures/websocket/chat_probe.ts`;
const CHAT = `${repoRoot}examples/chat.ts`;

/**
 * The test apps import Starlight from this checkout (`mod.ts`), outside their own directory,
 * which the default sandbox does not let the app read; an app importing `jsr:@x/starlight`
 * loads it from Deno's module cache and needs no such grant.
 */
const READ_CHECKOUT = `--allow-read=${repoRoot}`;

function start(app: string, workers: number, ...extra: string[]): Promise<RunningServer> {
  return startServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--workers",
    String(workers),
    READ_CHECKOUT,
    ...extra,
    app,
  ]);
}

/** Stops the server (SIGTERM) and checks it exited with 0; SIGKILL if it lingers. */
async function stopServer(server: RunningServer): Promise<void> {
  const status = await server.stop(10_000);
  assert.equal(status.code, 0, `server exit status ${status.code}; output:\n${server.stderr()}`);
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, "g"))].length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

/** The close frame among `frames` (the last frame a server sends). */
function closeOf(frames: ServerFrame[]): ServerFrame {
  const last = frames.at(-1);
  assert.ok(last !== undefined && last.opcode === Opcode.Close, "expected a close frame last");
  return last;
}

Deno.test("echo app on 1 worker: echo, binary, fragments, ping/pong, idle pings, close codes", async (t) => {
  const server = await start(ECHO_APP, 1);
  const url = `ws://127.0.0.1:${server.port}/echo`;
  try {
    await t.step("Deno WebSocket: text, binary and a 1 MiB binary message echo back", async () => {
      const client = await DenoClient.open(`${url}?tag=deno-echo`);
      assert.equal(await client.ask("héllo ✨ starlight"), "héllo ✨ starlight");
      const small = await client.ask(new Uint8Array([0, 1, 127, 128, 255]));
      assert.ok(small instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(small)], [0, 1, 127, 128, 255]);
      const big = randomBytes(1 << 20);
      const back = await client.ask(big);
      assert.ok(back instanceof ArrayBuffer);
      assert.ok(Buffer.from(back).equals(Buffer.from(big)), "1 MiB binary came back changed");
      assert.equal(await client.ask(""), "");
      assert.deepEqual(await client.close(1000), { code: 1000, reason: "", wasClean: true });
    });

    await t.step("ws: permessage-deflate, headers added to the 101, large messages", async () => {
      const client = await WsClient.open(`${url}?tag=ws-echo`);
      assert.equal(client.socket.extensions, "permessage-deflate");
      assert.equal(client.headers["sec-websocket-extensions"], "permessage-deflate");
      assert.match(client.worker, /^[0-9a-f-]{36}$/, "x-worker set by the app after upgrading");
      const text = "the quick brown fox jumps over the lazy dog ".repeat(5000);
      assert.equal(await client.ask(text), text);
      const binary = randomBytes(300_000);
      client.socket.send(binary);
      const got = await client.next();
      assert.equal(got.isBinary, true);
      assert.ok(got.data.equals(Buffer.from(binary)));
      assert.deepEqual(await client.close(1000, "done"), {
        code: 1000,
        reason: "",
        wasClean: true,
      });
      await server.waitFor(/ws-closed tag=ws-echo code=1000 reason="done" clean=true/);
    });

    await t.step("fragmented messages, from ws and as raw frames with a ping between", async () => {
      for (const perMessageDeflate of [false, true]) {
        const client = await WsClient.open(url, { perMessageDeflate });
        const tail = "z".repeat(4000);
        client.socket.send("frag", { fin: false });
        client.socket.send("men", { fin: false });
        client.socket.send("ted " + tail, { fin: true });
        assert.equal((await client.next()).data.toString(), "fragmented " + tail);
        client.socket.send(Buffer.from([1, 2]), { fin: false, binary: true });
        client.socket.send(Buffer.from([3]), { fin: true, binary: true });
        const binary = await client.next();
        assert.equal(binary.isBinary, true);
        assert.deepEqual([...binary.data], [1, 2, 3]);
        await client.close();
      }

      const raw = await RawClient.open(server.port, "/echo?tag=raw-fragments");
      assert.match(raw.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      // The UTF-8 of "é" split across two fragments must still decode.
      const e = new TextEncoder().encode("é");
      await raw.send(
        clientFrame(Opcode.Text, concat([new TextEncoder().encode("Hel"), e.subarray(0, 1)]), {
          fin: false,
        }),
        clientFrame(Opcode.Ping, "between"),
        clientFrame(Opcode.Continuation, concat([e.subarray(1), new TextEncoder().encode("lo")]), {
          fin: false,
        }),
        clientFrame(Opcode.Continuation, " raw", { fin: true }),
      );
      const [pong, message] = await raw.frames(2);
      assert.equal(pong.opcode, Opcode.Pong);
      assert.equal(new TextDecoder().decode(pong.payload), "between");
      assert.equal(message.opcode, Opcode.Text);
      assert.equal(message.fin, true);
      assert.equal(new TextDecoder().decode(message.payload), "Helélo raw");
      await raw.send(closeFrame(1000, "raw bye"));
      const end = await raw.untilHangUp(2000);
      assert.equal(closeCodeOf(closeOf(end.frames)), 1000);
    });

    await t.step("ping/pong: ws pings the server; the server pings an idle client", async () => {
      const client = await WsClient.open(`${url}?idle=1&tag=idle-ws`);
      client.socket.ping("are you there?");
      assert.equal(await client.pong(), "are you there?");
      // A raw client that stays silent: ping after 1 s, then 1001 after another second.
      const mute = await RawClient.open(server.port, "/echo?idle=1&tag=idle-raw");
      const started = performance.now();
      const [ping] = await mute.frames(1, 3000);
      assert.equal(ping.opcode, Opcode.Ping);
      const pingedAfter = performance.now() - started;
      assert.ok(pingedAfter > 700 && pingedAfter < 2500, `pinged after ${pingedAfter} ms`);
      const [close] = await mute.frames(1, 3000);
      assert.equal(close.opcode, Opcode.Close);
      assert.equal(closeCodeOf(close), 1001);
      await mute.send(closeFrame(1001));
      await mute.untilHangUp(2000);
      // Meanwhile the ws client, which answers pings, was pinged and is still served.
      assert.ok(client.pings.length >= 1, "the idle ws client was never pinged");
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      assert.equal(await client.ask("still here"), "still here");
      await client.close();
      await server.waitFor(
        /ws-closed tag=idle-raw code=1001 reason="No response from ping frame\." clean=false/,
      );
    });

    await t.step(
      "upgrade on a kept-alive connection, frames in the handshake's packet",
      async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        try {
          const encoder = new TextEncoder();
          await writeAll(conn, encoder.encode("GET /worker HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
          const first = await within(WAIT_MS, readHead(conn), "first response");
          assert.ok(first !== null);
          assert.match(first.head, /^HTTP\/1\.1 200 /);
          const length = Number(/content-length: (\d+)/i.exec(first.head)?.[1]);
          let body = first.rest;
          while (body.length < length) {
            const chunk = new Uint8Array(1024);
            const n = await conn.read(chunk);
            assert.ok(n !== null, "closed before the body ended");
            body = concat([body, chunk.subarray(0, n)]);
          }
          // The same connection now upgrades, with two frames sent along with the request.
          let handshake = "GET /echo?tag=pipelined HTTP/1.1\r\n";
          for (const [name, value] of Object.entries(handshakeHeaders())) {
            handshake += `${name}: ${value}\r\n`;
          }
          await writeAll(
            conn,
            concat([
              encoder.encode(handshake + "\r\n"),
              clientFrame(Opcode.Text, "sent with the handshake"),
              clientFrame(Opcode.Binary, new Uint8Array([7, 8, 9])),
            ]),
          );
          const second = await within(WAIT_MS, readHead(conn), "101");
          assert.ok(second !== null);
          assert.match(second.head, /^HTTP\/1\.1 101 /);
          const echoed = await within(WAIT_MS, readFrames(conn, 2, second.rest), "echoes");
          const [text, binary] = echoed.frames;
          assert.equal(new TextDecoder().decode(text.payload), "sent with the handshake");
          assert.deepEqual([...binary.payload], [7, 8, 9]);
          await writeAll(conn, closeFrame(1000));
          const reply = await within(WAIT_MS, readFrames(conn, 1, echoed.rest), "close reply");
          assert.equal(closeCodeOf(reply.frames[0]), 1000);
        } finally {
          conn.close();
        }
        await server.waitFor(/ws-closed tag=pipelined code=1000 reason="" clean=true/);
      },
    );

    await t.step("close codes both ways, and subprotocols", async () => {
      // The server echoes the code (not the reason), as RFC 6455 §5.5.1 suggests.
      const byClient = await DenoClient.open(`${url}?tag=client-4000`);
      assert.deepEqual(await byClient.close(4000, "bye"), {
        code: 4000,
        reason: "",
        wasClean: true,
      });
      await server.waitFor(/ws-closed tag=client-4000 code=4000 reason="bye" clean=true/);

      const byServer = await DenoClient.open(`${url}?tag=server-4001`);
      byServer.socket.send("!close 4001 server says bye");
      assert.deepEqual(await within(3000, byServer.closed, "server close"), {
        code: 4001,
        reason: "server says bye",
        wasClean: true,
      });
      await server.waitFor(
        /ws-closed tag=server-4001 code=4001 reason="server says bye" clean=true/,
      );

      const ws = await WsClient.open(`${url}?tag=ws-1011`);
      ws.socket.send("!close 1011 oops");
      assert.deepEqual(await within(3000, ws.closed, "server close"), {
        code: 1011,
        reason: "oops",
        wasClean: true,
      });

      const noCode = await WsClient.open(`${url}?tag=no-code`);
      await noCode.close();
      await server.waitFor(/ws-closed tag=no-code code=1005 reason="" clean=true/);

      const chosen = await DenoClient.open(`${url}?protocol=superchat&tag=proto`, [
        "chat",
        "superchat",
      ]);
      assert.equal(chosen.socket.protocol, "superchat");
      assert.equal(await chosen.ask("hi"), "hi");
      await chosen.close();
    });

    const log = server.stderr();
    assert.equal(count(log, /worker \d+ started/), 1, log);
    assert.doesNotMatch(log, /crashed|ERR|WebSocket connection error/);
  } finally {
    await stopServer(server);
  }
});

Deno.test("chat example on 1 worker: broadcast; protocol violations end only their connection", async (t) => {
  const server = await start(CHAT, 1);
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const alice = await DenoClient.open(url);
  const bob = await WsClient.open(url);
  const carol = await DenoClient.open(url);
  try {
    await t.step("the page, and a plain GET of /ws", async () => {
      const page = await fetch(`http://127.0.0.1:${server.port}/`);
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(await page.text(), /new WebSocket\(new URL\("\/ws"/);
      const plain = await fetch(`http://127.0.0.1:${server.port}/ws`);
      assert.equal(plain.status, 426);
      await plain.body?.cancel();
    });

    await t.step("every message reaches everyone, sender included", async () => {
      alice.socket.send("alice: hi all");
      bob.socket.send("bob: hello");
      carol.socket.send("carol: hey");
      const expected = ["alice: hi all", "bob: hello", "carol: hey"].sort();
      const got = async (next: () => Promise<string>) =>
        (await Promise.all([next(), next(), next()])).sort();
      assert.deepEqual(await got(async () => String(await alice.next())), expected);
      assert.deepEqual(await got(async () => (await bob.next()).data.toString()), expected);
      assert.deepEqual(await got(async () => String(await carol.next())), expected);
    });

    const violations: [string, () => Uint8Array, number | undefined][] = [
      ["an unmasked frame", () => clientFrame(Opcode.Text, "hi", { mask: null }), 1002],
      ["a reserved opcode", () => clientFrame(0x3 as Opcode, "hi"), 1002],
      ["RSV2 set", () => {
        const frame = clientFrame(Opcode.Text, "hi");
        frame[0] |= 0x20;
        return frame;
      }, 1002],
      ["RSV1 on a ping", () => clientFrame(Opcode.Ping, "hi", { rsv1: true }), 1002],
      [
        "text that is not UTF-8",
        () => clientFrame(Opcode.Text, new Uint8Array([0xc3, 0x28])),
        1007,
      ],
      ["a 126-byte ping", () => clientFrame(Opcode.Ping, new Uint8Array(126)), 1002],
      ["a fragmented ping", () => clientFrame(Opcode.Ping, "x", { fin: false }), 1002],
      ["a continuation with no message", () => clientFrame(Opcode.Continuation, "x"), 1002],
      ["a new message inside a fragmented one", () =>
        concat([
          clientFrame(Opcode.Text, "a", { fin: false }),
          clientFrame(Opcode.Text, "b"),
        ]), 1002],
      ["a close code that may not be sent", () => closeFrame(1005), 1002],
      ["a one-byte close payload", () => clientFrame(Opcode.Close, new Uint8Array([3])), 1002],
      ["a frame claiming 2^40 bytes", () => {
        const head = new Uint8Array(14);
        head[0] = 0x82;
        head[1] = 0xff;
        new DataView(head.buffer).setBigUint64(2, 1n << 40n);
        return head;
      }, 1009],
      ["a 64-bit length with the top bit set", () => {
        const head = new Uint8Array(14);
        head[0] = 0x82;
        head[1] = 0xff;
        new DataView(head.buffer).setBigUint64(2, 1n << 63n);
        return head;
      }, 1002],
    ];

    await t.step(
      "raw-frame violations: only the offender is closed; the room keeps chatting",
      async () => {
        let round = 0;
        const chatStillWorks = async () => {
          const text = `alice: still here ${++round}`;
          alice.socket.send(text);
          assert.equal(String(await alice.next()), text);
          assert.equal((await bob.next()).data.toString(), text);
          assert.equal(String(await carol.next()), text);
        };
        for (const [what, bytes, code] of violations) {
          const raw = await RawClient.open(server.port, "/ws");
          assert.match(raw.head, /^HTTP\/1\.1 101 /, what);
          await raw.send(bytes());
          const end = await raw.untilHangUp(2000);
          assert.equal(closeCodeOf(closeOf(end.frames)), code, what);
          await chatStillWorks();
        }

        // Half a frame, then the client hangs up: the server just lets the connection go.
        const halfway = await RawClient.open(server.port, "/ws");
        await halfway.send(clientFrame(Opcode.Text, "x".repeat(1000)).subarray(0, 500));
        await halfway.conn.closeWrite();
        await halfway.untilHangUp(2000);
        await chatStillWorks();

        // Random bytes after the handshake, with a fixed seed for repeatability.
        let seed = 0x5eed;
        const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        for (let i = 0; i < 20; i++) {
          const raw = await RawClient.open(server.port, "/ws");
          await raw.send(Uint8Array.from({ length: 1 + (random() % 64) * 4 }, random));
          await raw.conn.closeWrite().catch(() => {});
          await raw.untilHangUp(4000);
        }
        await chatStillWorks();

        // Bad handshakes and garbage instead of HTTP: answered with 4xx, never a crash.
        const noKey = await RawClient.open(server.port, "/ws", { "sec-websocket-key": null });
        assert.match(noKey.head, /^HTTP\/1\.1 400 /);
        noKey.close();
        const badVersion = await RawClient.open(server.port, "/ws", {
          "sec-websocket-version": "8",
        });
        assert.match(badVersion.head, /^HTTP\/1\.1 400 /);
        badVersion.close();
        const garbage = await rawExchange(
          server.port,
          "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\r\n\r\n",
          3000,
        );
        assert.match(garbage, /^HTTP\/1\.1 400 /);
        await chatStillWorks();
      },
    );

    const log = server.stderr();
    assert.equal(count(log, /worker \d+ started/), 1, `the worker was replaced:\n${log}`);
    assert.doesNotMatch(log, /crashed|WebSocket connection error/);
  } finally {
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await stopServer(server);
  }
});

Deno.test("chat example on 2 workers: BroadcastChannel carries messages across workers", async () => {
  const server = await start(CHAT_PROBE, 2);
  const clients: WsClient[] = [];
  try {
    await server.waitFor(/worker 2 started/);
    const url = `ws://127.0.0.1:${server.port}/ws`;
    // Connect until both workers hold at least one client (the 101 names the worker).
    for (let i = 0; i < 24 && new Set(clients.map((c) => c.worker)).size < 2; i++) {
      clients.push(await WsClient.open(url));
    }
    const workers = new Set(clients.map((client) => client.worker));
    assert.equal(workers.size, 2, `all ${clients.length} clients landed on one worker`);
    const sent = clients.map((_, i) => `user${i}: hello from client ${i}`);
    clients.forEach((client, i) => client.socket.send(sent[i]));
    for (const client of clients) {
      const got: string[] = [];
      for (let i = 0; i < sent.length; i++) got.push((await client.next()).data.toString());
      assert.deepEqual(got.sort(), [...sent].sort(), `client on worker ${client.worker}`);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await stopServer(server);
  }
});

Deno.test("SIGTERM: open sockets get 1001, the close handshake is awaited, the server exits 0", async () => {
  const server = await start(ECHO_APP, 2, "--graceful-timeout", "10");
  const url = `ws://127.0.0.1:${server.port}/echo`;
  let clients: [DenoClient, WsClient, RawClient, RawClient] | undefined;
  try {
    await server.waitFor(/worker 2 started/);
    clients = [
      await DenoClient.open(`${url}?tag=term-deno`),
      await WsClient.open(`${url}?tag=term-ws`),
      await RawClient.open(server.port, "/echo?tag=term-slow"),
      await RawClient.open(server.port, "/echo?tag=term-mute"),
    ];
    const [deno, ws, slow, mute] = clients;
    assert.equal(await deno.ask("before"), "before");
    assert.equal(await ws.ask("before"), "before");

    const started = performance.now();
    server.kill("SIGTERM");
    assert.deepEqual(await within(3000, deno.closed, "Deno close"), {
      code: 1001,
      reason: "server shutting down",
      wasClean: true,
    });
    assert.deepEqual(await within(3000, ws.closed, "ws close"), {
      code: 1001,
      reason: "server shutting down",
      wasClean: true,
    });
    // The slow client answers the close after a second: the server waits for it.
    const [slowClose] = await slow.frames(1, 3000);
    assert.equal(closeCodeOf(slowClose), 1001);
    assert.equal(closeReasonOf(slowClose), "server shutting down");
    await sleep(1000);
    await slow.send(closeFrame(1001));
    await slow.untilHangUp(2000);
    // The mute one never answers: the connection is cut after the close timeout.
    const [muteClose] = await mute.frames(1, 3000);
    assert.equal(closeCodeOf(muteClose), 1001);
    const cut = await mute.untilHangUp(6000);
    assert.ok(cut.ms > 1000, `the mute client was cut after only ${cut.ms} ms`);

    const status = await within(8000, server.exited(), "server exit");
    const took = performance.now() - started;
    assert.equal(status.code, 0, server.stderr());
    assert.ok(took < 9000, `shutdown took ${took} ms, beyond the close timeout`);
    const log = server.stderr();
    assert.match(log, /ws-closed tag=term-deno code=1001 reason="server shutting down" clean=true/);
    assert.match(log, /ws-closed tag=term-ws code=1001 reason="server shutting down" clean=true/);
    assert.match(log, /ws-closed tag=term-slow code=1001 reason="" clean=true/);
    assert.match(log, /ws-closed tag=term-mute code=1006 reason="" clean=false/);
  } finally {
    for (const client of clients ?? []) {
      if (client instanceof RawClient) client.close();
      else await client.close();
    }
    server.kill("SIGKILL");
    await server.exited();
  }
});

Deno.test("SIGHUP restart: the retired worker's sockets get 1001; new sockets reach the new worker", async () => {
  const server = await start(ECHO_APP, 1, "--graceful-timeout", "20");
  const url = `ws://127.0.0.1:${server.port}/echo`;
  const clients: (DenoClient | WsClient)[] = [];
  try {
    const deno = await DenoClient.open(`${url}?tag=hup-deno`);
    clients.push(deno);
    const ws = await WsClient.open(`${url}?tag=hup-ws`);
    clients.push(ws);
    const before = String(await deno.ask("!worker"));
    assert.equal(ws.worker, before);

    server.kill("SIGHUP");
    // Well before the 20 s graceful timeout: retirement closes sockets, it does not wait them out.
    const [denoClosed, wsClosed] = await within(
      8000,
      Promise.all([deno.closed, ws.closed]),
      "1001 to the old worker's sockets",
    );
    assert.equal(denoClosed.code, 1001);
    assert.equal(denoClosed.wasClean, true);
    assert.equal(wsClosed.code, 1001);
    await server.waitFor(/restart finished/, 8000);
    await server.waitFor(/worker 1 retired/, 8000);

    const fresh = await DenoClient.open(`${url}?tag=hup-fresh`);
    clients.push(fresh);
    const after = String(await fresh.ask("!worker"));
    assert.notEqual(after, before, "the new socket was served by the retired worker");
    assert.equal(await fresh.ask("after the restart"), "after the restart");
    await fresh.close();
    assert.match(server.stderr(), /ws-closed tag=hup-deno code=1001 /);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await stopServer(server);
  }
});

Deno.test("the chat example runs under `deno serve` with only its import line swapped back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-chat-" });
  const original = await Deno.readTextFile(CHAT);
  const ours = `import { upgradeWebSocket } from "@x/starlight";`;
  const denos = "const { upgradeWebSocket } = Deno;";
  assert.equal(original.split("\n").filter((line) => line === ours).length, 1);
  const swapped = original.replace(ours, denos);
  const diff = original.split("\n").filter((line, i) => line !== swapped.split("\n")[i]);
  assert.deepEqual(diff, [ours], "exactly one line differs");
  await Deno.writeTextFile(`${dir}/chat.ts`, swapped);

  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "--no-config", "--host", "127.0.0.1", "--port", "0", `${dir}/chat.ts`],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const { promise: listening, resolve: announced } = Promise.withResolvers<number>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      const match = output.match(/Listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      if (match) announced(Number(match[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const clients: DenoClient[] = [];
  let status: Deno.CommandStatus | undefined;
  try {
    const port = await within(20_000, listening, "deno serve to listen");
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await page.text(), /<title>Chat<\/title>/);
    clients.push(await DenoClient.open(`ws://127.0.0.1:${port}/ws`));
    clients.push(await DenoClient.open(`ws://127.0.0.1:${port}/ws`));
    clients[0].socket.send("one: hi from deno serve");
    for (const client of clients) assert.equal(await client.next(), "one: hi from deno serve");
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    const kill = (signal: Deno.Signal) => {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    kill("SIGTERM");
    const killer = setTimeout(() => kill("SIGKILL"), 5000);
    status = await child.status;
    clearTimeout(killer);
    await pumps;
    await Deno.remove(dir, { recursive: true });
  }
  // Once every client left, SIGTERM ends `deno serve` gracefully (no SIGKILL needed).
  assert.notEqual(status.signal, "SIGKILL", `deno serve did not exit on SIGTERM:\n${output}`);
  assert.doesNotMatch(output, /error/i, output);
});
