/**
 * The engine through the real CLI (`mod.ts`, one worker): what only the command line sets up —
 * `-E development` stack traces, `--max-keepalive-reqs`, and the `Server` name.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { fieldValue, RawClient } from "../_helpers/engine_harness.ts";
import { type RunningServer, startServer } from "../_helpers/server.ts";

const H = "Host: example.com\r\n";

const APP = `
export default {
  fetch(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (path === "/boom") throw new Error("kaboom from the app");
    return new Response("hi " + path);
  },
};
`;

/** Writes the app to a temporary directory, starts the CLI with `args`, and cleans up after. */
async function withCli(
  args: string[],
  run: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "starlight-cli-" });
  const app = `${dir}/app.ts`;
  await Deno.writeTextFile(app, APP);
  const server = await startServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    ...args,
    app,
  ]);
  try {
    await run(server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli: -E development puts the stack trace in the 500", async () => {
  await withCli(["-E", "development"], async (server) => {
    await using client = await RawClient.connect(server.port);
    await client.write(`GET /boom HTTP/1.1\r\n${H}\r\n`);
    const response = await client.response();
    assert.equal(response.status, 500);
    assert.match(response.body, /kaboom from the app/);
    assert.match(response.body, /\n\s+at .*app\.ts/);
  });
});

Deno.test("cli: without -E development the 500 has no stack trace", async () => {
  await withCli([], async (server) => {
    await using client = await RawClient.connect(server.port);
    await client.write(`GET /boom HTTP/1.1\r\n${H}\r\n`);
    const response = await client.response();
    assert.equal(response.status, 500);
    assert.equal(response.body, "Internal Server Error\n");
    assert.ok(!response.raw.includes("kaboom"));
  });
});

Deno.test("cli: --max-keepalive-reqs 2: the second response says close, then the server closes", async () => {
  await withCli(["--max-keepalive-reqs", "2"], async (server) => {
    await using client = await RawClient.connect(server.port);
    await client.write(
      `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\nGET /3 HTTP/1.1\r\n${H}\r\n`,
    );
    const first = await client.response();
    const second = await client.response();
    assert.deepEqual([first.body, second.body], ["hi /1", "hi /2"]);
    assert.equal(fieldValue(first, "connection"), undefined);
    assert.equal(fieldValue(second, "connection"), "close");
    assert.equal(await client.untilClosed(), "");
  });
});

Deno.test("cli: responses carry Server: Starlight/<version> and a Date", async () => {
  await withCli([], async (server) => {
    await using client = await RawClient.connect(server.port);
    await client.write(`GET / HTTP/1.1\r\n${H}\r\n`);
    const response = await client.response();
    assert.equal(fieldValue(response, "server"), `Starlight/${VERSION}`);
    assert.ok(!Number.isNaN(Date.parse(fieldValue(response, "date")!)));
  });
});
