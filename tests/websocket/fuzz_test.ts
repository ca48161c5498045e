import assert from "node:assert/strict";
import { type Upgrade, upgradeKey } from "../../lib/engine/handoff.ts";
import { Opcode } from "../../lib/websocket/frame.ts";
import { upgradeWebSocket } from "../../lib/websocket/mod.ts";
import { clientFrame, concat, handshakeHeaders } from "../_helpers/websocket_fixture.ts";

/** An in-memory `Deno.Conn`: serves `input` in chunks, then end of stream. */
class ScriptedConn {
  readonly written: Uint8Array[] = [];
  closed = false;
  #input: Uint8Array[];

  constructor(input: Uint8Array[]) {
    this.#input = input.map((chunk) => chunk.slice());
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    const chunk = this.#input.shift();
    if (!chunk) return Promise.resolve(null);
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#input.unshift(chunk.subarray(n));
    return Promise.resolve(n);
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    // Partial writes exercise the sender's loop.
    const n = Math.max(1, Math.min(bytes.length, 1 + (bytes.length >> 1)));
    this.written.push(bytes.slice(0, n));
    return Promise.resolve(n);
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource("closed twice");
    this.closed = true;
  }
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const VALID: Uint8Array[] = [
  clientFrame(Opcode.Text, "hello", { fin: false }),
  clientFrame(Opcode.Ping, "p"),
  clientFrame(Opcode.Continuation, " world"),
  clientFrame(Opcode.Binary, new Uint8Array(300).fill(1)),
  clientFrame(Opcode.Binary, new Uint8Array([0x4b, 0x04, 0x00]), { rsv1: true }),
  clientFrame(Opcode.Pong, ""),
  clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8, 0x6f, 0x6b])),
];

Deno.test("random and mutated input never escapes run: every connection ends with one close event", async () => {
  const random = prng(2024);
  for (let round = 0; round < 400; round++) {
    const deflate = round % 2 === 0;
    const headers = handshakeHeaders(
      deflate ? { "sec-websocket-extensions": "permessage-deflate" } : {},
    );
    const { socket, response } = upgradeWebSocket(
      new Request("http://127.0.0.1/", { headers }),
      { idleTimeout: 0, maxMessageSize: 4096 },
    );
    const events: string[] = [];
    socket.onopen = () => events.push("open");
    socket.onmessage = (event) => socket.send(event.data);
    socket.onclose = (event) => events.push(`close:${event.code}`);

    let bytes = concat(VALID.filter(() => random() < 0.7));
    bytes = bytes.map((byte) => random() < 0.02 ? (random() * 256) | 0 : byte);
    if (random() < 0.3) bytes = bytes.subarray(0, (random() * bytes.length) | 0);
    if (random() < 0.2) bytes = new Uint8Array(64).map(() => (random() * 256) | 0);
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < bytes.length;) {
      const size = 1 + ((random() * 40) | 0);
      chunks.push(bytes.subarray(offset, offset + size));
      offset += size;
    }

    const conn = new ScriptedConn(chunks);
    const upgrade = (response as Response & { [upgradeKey]: Upgrade })[upgradeKey];
    await upgrade.run(
      conn as unknown as Deno.Conn,
      new Uint8Array(0),
      new AbortController().signal,
    );
    assert.equal(conn.closed, true, `round ${round}`);
    assert.equal(events[0], "open");
    assert.equal(
      events.filter((e) => e.startsWith("close:")).length,
      1,
      `round ${round}: ${events}`,
    );
    assert.equal(socket.readyState, WebSocket.CLOSED);
  }
});
