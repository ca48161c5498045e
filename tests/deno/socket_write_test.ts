/** `socketWriter`: Deno's write op called directly, or `conn.write` for wrappers; same bytes. */
import assert from "node:assert/strict";
import { socketWriter } from "../../lib/deno/socket_write.ts";

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [await listener.accept(), client];
}

async function writesArrive(server: Deno.Conn, client: Deno.Conn): Promise<void> {
  const write = socketWriter(server);
  const bytes = new TextEncoder().encode("hello");
  assert.equal(await write(bytes), 5);
  server.closeWrite();
  const got = await new Response(client.readable).text();
  assert.equal(got, "hello");
}

Deno.test("socketWriter: a TCP connection writes its bytes to the peer", async () => {
  const [server, client] = await pair();
  try {
    await writesArrive(server, client);
  } finally {
    server.close();
  }
});

Deno.test("socketWriter: a wrapper that intercepts write sees every write", async () => {
  const [server, client] = await pair();
  let intercepted = 0;
  const wrapper = new Proxy(server, {
    get(target, property) {
      if (property === "write") {
        return (bytes: Uint8Array) => {
          intercepted++;
          return target.write(bytes);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    await writesArrive(wrapper, client);
    assert.equal(intercepted, 1);
  } finally {
    server.close();
  }
});

Deno.test("socketWriter: a write after the peer reset rejects like conn.write", async () => {
  const [server, client] = await pair();
  client.close();
  const write = socketWriter(server);
  const bytes = new Uint8Array(64 * 1024);
  try {
    await assert.rejects(
      async () => {
        for (let i = 0; i < 100; i++) await write(bytes);
      },
      (error: unknown) =>
        error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset,
    );
  } finally {
    server.close();
  }
});
