/** `socketReader`: Deno's read op called directly, or `conn.read` for wrappers; same results. */
import assert from "node:assert/strict";
import { socketReader } from "../../lib/deno/socket_read.ts";

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [await listener.accept(), client];
}

async function readsThenEnds(server: Deno.Conn, client: Deno.Conn): Promise<void> {
  const read = socketReader(server);
  await client.write(new TextEncoder().encode("abc"));
  const buffer = new Uint8Array(16);
  const n = await read(buffer);
  assert.equal(new TextDecoder().decode(buffer.subarray(0, n)), "abc");
  client.closeWrite();
  assert.equal(await read(buffer), 0, "0 at end of stream");
}

Deno.test("socketReader: a TCP connection reads bytes, then 0 at end of stream", async () => {
  const [server, client] = await pair();
  try {
    await readsThenEnds(server, client);
  } finally {
    server.close();
    client.close();
  }
});

Deno.test("socketReader: a wrapper that intercepts read sees every read", async () => {
  const [server, client] = await pair();
  let intercepted = 0;
  const wrapper = new Proxy(server, {
    get(target, property) {
      if (property === "read") {
        return (buffer: Uint8Array) => {
          intercepted++;
          return target.read(buffer);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    await readsThenEnds(wrapper, client);
    assert.equal(intercepted, 2);
  } finally {
    server.close();
    client.close();
  }
});
