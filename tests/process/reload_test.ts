/**
 * `-r`/`--reload`: a change in the app's directory restarts the workers gracefully (once per
 * burst of changes); the server's own log files in that directory do not count.
 */

import assert from "node:assert/strict";
import { startServer } from "../_helpers/server.ts";
import { eventually, fixtures } from "../_helpers/listen.ts";

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, "g"))].length;
}

async function body(port: number): Promise<string> {
  // A new connection each time: keep-alive would stay with an old worker while it drains.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n"),
    );
    let text = "";
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.slice(text.indexOf("\r\n\r\n") + 4);
  } finally {
    conn.close();
  }
}

Deno.test("--reload: editing the app restarts the workers; writing logs there does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-reload-" });
  const app = `${dir}/app.ts`;
  await Deno.copyFile(`${fixtures}version.ts`, app);
  const server = await startServer([
    "--workers",
    "2",
    "--port",
    "0",
    "-r",
    "--access-log",
    `${dir}/access.log`,
    app,
  ]);
  try {
    await server.waitFor(/reload: watching/);
    assert.equal(await body(server.port), "version 1\n");
    // Requests write the access log inside the watched directory: no restart.
    for (let i = 0; i < 5; i++) await body(server.port);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(count(server.stderr(), /restart begun/), 0, server.stderr());

    // An editor's save: several writes in a row give one restart.
    const source = await Deno.readTextFile(app);
    await Deno.writeTextFile(app, source.replace("version 1", "version 2"));
    await Deno.writeTextFile(app, source.replace("version 1", "version 2") + "\n");
    await server.waitFor(/restart finished/, 20_000);
    await eventually(async () => (await body(server.port)) === "version 2\n", "version 2 served");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(count(server.stderr(), /restart begun/), 1, server.stderr());
    assert.match(server.stderr(), /reload: \S*app\.ts changed; restarting the workers/);
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
