/**
 * The app's lifecycle (issue 16 item 3): `onListen` once its worker listens, with the address;
 * `onStop` awaited when the worker stops (restart, shutdown), bounded by --graceful-timeout;
 * then the `unload` event.
 */

import assert from "node:assert/strict";
import {
  appHooks,
  servedAddresses,
  STOP_RESERVE_MS,
  stopApp,
  stopReserve,
} from "../../lib/app/lifecycle.ts";
import { AppError } from "../../lib/app/errors.ts";
import type { RelayListenSpec } from "../../lib/listen/spec.ts";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { fetchWithin } from "../_helpers/examples.ts";
import { runCli } from "../_helpers/listen.ts";

const APP = `${repoRoot}tests/fixtures/app/lifecycle.ts`;

/** Every `lifecycle EVENT INSTANCE [DETAIL]` line the app printed, in order. */
function events(server: RunningServer): string[][] {
  return [...server.stderr().matchAll(/^lifecycle (\S+) (\S+)(?: (\S+))?$/gm)].map((m) =>
    m.slice(1).filter((part) => part !== undefined)
  );
}

Deno.test("hooks: onListen and onStop of the default export, refused when not functions", () => {
  const calls: string[] = [];
  const app = {
    name: "me",
    fetch: () => new Response(""),
    onListen(this: { name: string }) {
      calls.push(`listen ${this.name}`);
    },
  };
  const hooks = appHooks(app, "app.ts");
  hooks.onListen!({ transport: "tcp", hostname: "0.0.0.0", port: 1 });
  assert.deepEqual(calls, ["listen me"], "called as a method");
  assert.deepEqual(appHooks(() => new Response(""), "app.ts"), {});
  assert.throws(
    () => appHooks({ fetch: () => new Response(""), onStop: "later" }, "app.ts"),
    (error: unknown) =>
      error instanceof AppError &&
      error.message === "app.ts: onStop must be a function, not string",
  );
});

Deno.test("onListen gets the public addresses: relayed sockets by their own names", () => {
  const relay: RelayListenSpec = {
    kind: "tcp",
    hostname: "127.0.0.1",
    port: 41000,
    relay: {
      token: "00",
      routes: [{ kind: "unix", path: "/run/a.sock" }, { kind: "abstract", name: "b" }],
      scheme: "http",
    },
  };
  assert.deepEqual(servedAddresses([{ kind: "tcp", hostname: "::", port: 8080 }, relay]), [
    { transport: "tcp", hostname: "::", port: 8080 },
    { transport: "unix", path: "/run/a.sock" },
    { transport: "unix", path: "\0b" },
  ]);
});

Deno.test("stopApp: onStop awaited, then unload; a late onStop is cut at the deadline", async () => {
  const order: string[] = [];
  const onUnload = () => order.push("unload");
  globalThis.addEventListener("unload", onUnload);
  try {
    const reports: string[] = [];
    await stopApp(
      {
        async onStop({ reason }) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          order.push(`stopped ${reason}`);
        },
      },
      "shutdown",
      Date.now() + 5000,
      true,
      (message) => reports.push(message),
    );
    assert.deepEqual(order, ["stopped shutdown", "unload"]);
    assert.equal(reports.length, 0, reports.join("\n"));

    // A late onStop is cut just before the deadline: its signal aborts, and the stop goes on.
    let aborted = false;
    const started = Date.now();
    await stopApp(
      {
        onStop: ({ signal }) =>
          new Promise(() => signal.addEventListener("abort", () => aborted = true)),
      },
      "recycle",
      Date.now() + 300,
      false,
      (message) => reports.push(message),
    );
    const took = Date.now() - started;
    assert.ok(aborted, "the signal aborted");
    assert.ok(took >= 200 && took < 1000, `took ${took} ms`);
    assert.match(reports[0], /^onStop did not finish within \d+ ms; stopping anyway$/);
    assert.deepEqual(
      [stopReserve({ onStop() {} }, 30_000, 0), stopReserve({ onStop() {} }, 1000, 0)],
      [STOP_RESERVE_MS, 500],
    );
    assert.equal(stopReserve({}, 30_000, 0), 0, "no reserve without onStop");

    await stopApp(
      {
        onStop() {
          throw new Error("pool already closed");
        },
      },
      "recycle",
      Date.now() + 1000,
      false,
      (message, error) => reports.push(`${message}: ${error}`),
    );
    assert.equal(reports.at(-1), "onStop failed: Error: pool already closed");
  } finally {
    globalThis.removeEventListener("unload", onUnload);
  }
});

Deno.test("workers: onListen per worker before serving; onStop then unload on HUP and TERM", async () => {
  const server = await startServer(["--host", "127.0.0.1", "--port", "0", "--workers", "2", APP]);
  try {
    const listened = events(server).filter(([event]) => event === "onListen");
    assert.equal(listened.length, 2, server.stderr());
    for (const [, , where] of listened) assert.equal(where, `127.0.0.1:${server.port}`);
    const first = new Set(listened.map(([, instance]) => instance));
    const served = await (await fetchWithin(`http://127.0.0.1:${server.port}/`)).text();
    assert.ok(first.has(served), `${served} did not say onListen`);

    // HUP: every old instance stops (recycle), after which it unloads; new ones listen.
    server.kill("SIGHUP");
    await server.waitFor(/restart finished/);
    for (const instance of first) {
      await server.waitFor(new RegExp(`^lifecycle unload ${instance}$`, "m"));
      const mine = events(server).filter(([, i]) => i === instance).map(([event, , detail]) =>
        [event, detail].filter(Boolean).join(" ")
      );
      assert.deepEqual(mine, [
        `onListen 127.0.0.1:${server.port}`,
        "onStop recycle",
        "onStop-done",
        "unload",
      ]);
    }
    const renewed = events(server).filter(([event, i]) => event === "onListen" && !first.has(i));
    assert.equal(renewed.length, 2, server.stderr());

    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
    for (const [, instance] of renewed) {
      const mine = events(server).filter(([, i]) => i === instance).map(([event]) => event);
      assert.deepEqual(mine, ["onListen", "onStop", "onStop-done", "unload"]);
    }
    assert.equal(
      events(server).filter(([event, , detail]) => event === "onStop" && detail === "shutdown")
        .length,
      2,
    );
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("an onStop that never settles is cut at --graceful-timeout; the server still exits", async () => {
  const server = await startServer([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--workers",
    "1",
    "--graceful-timeout",
    "1",
    `file://${APP}?hang`,
  ]);
  try {
    const started = Date.now();
    const status = await server.stop(15_000);
    const took = Date.now() - started;
    assert.equal(status.code, 0, server.stderr());
    assert.ok(took < 8000, `shutdown took ${took} ms`);
    assert.match(server.stderr(), /^lifecycle onStop-aborted \S+$/m);
    assert.match(server.stderr(), /onStop did not finish within \d+ ms; stopping anyway/);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("--workers 0: onListen once, onStop at shutdown (unload when the process ends)", async () => {
  const server = await startServer(["--host", "127.0.0.1", "--port", "0", "--workers", "0", APP]);
  try {
    assert.deepEqual(
      events(server).map(([event, , detail]) => [event, detail]),
      [["onListen", `127.0.0.1:${server.port}`]],
    );
    assert.equal((await server.stop()).code, 0, server.stderr());
    assert.deepEqual(events(server).map(([event]) => event), [
      "onListen",
      "onStop",
      "onStop-done",
      "unload",
    ]);
  } finally {
    server.kill("SIGKILL");
  }
});

Deno.test("an onListen that throws fails the start, in one line naming the app", async () => {
  const app = `${repoRoot}tests/fixtures/app/onlisten_throws.ts`;
  for (const workers of ["1", "0"]) {
    const result = await runCli(["--port", "0", "--workers", workers, app]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^starlight: ${app}: onListen threw: Error: onListen refuses$`, "m"),
    );
  }
});
