/**
 * Graceful shutdown: requests in flight finish, idle keep-alive connections close at once
 * (defect 3 of the original hung until one more request came), the process exits 0; a second
 * signal or the graceful timeout forces it.
 */

import assert from "node:assert/strict";
import { Client } from "../_helpers/load_client.ts";
import { appArgs, startForSignals } from "../_helpers/supervisor.ts";

Deno.test("TERM during a slow request: it completes, idle keep-alive clients are closed at once, exit 0", async () => {
  const server = await startForSignals([
    "--port",
    "0",
    "--workers",
    "2",
    "--keepalive-timeout",
    "30",
    ...appArgs,
  ]);
  try {
    await server.waitFor(/worker 2 started/);
    const idle = await Client.connect(server.port);
    await idle.get("/");
    const busy = await Client.connect(server.port);
    const slow = busy.get("/slow?ms=1500");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = performance.now();
    server.kill("SIGTERM");
    // The idle connection is closed at once, not after its 30 s keep-alive timeout.
    const closedAfter = await idle.waitForClose(5000);
    assert.ok(closedAfter < 1000, `idle connection closed after ${closedAfter} ms`);
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.ok(reply.close, "the last response says Connection: close");
    assert.ok(performance.now() - signalled >= 1000, "the slow request was cut short");
    const status = await server.exited();
    assert.equal(status.code, 0);
    assert.match(server.stderr(), /shutdown finished/);
    busy.close();
    idle.close();
  } finally {
    server.kill("SIGKILL");
    await server.exited();
  }
});

Deno.test("TERM with only idle keep-alive connections exits at once (defect 3)", async () => {
  const server = await startForSignals([
    "--port",
    "0",
    "--workers",
    "3",
    "--keepalive-timeout",
    "60",
    ...appArgs,
  ]);
  const clients: Client[] = [];
  try {
    await server.waitFor(/worker 3 started/);
    for (let i = 0; i < 6; i++) {
      const client = await Client.connect(server.port);
      await client.get("/");
      clients.push(client);
    }
    const signalled = performance.now();
    server.kill("SIGTERM");
    const status = await server.exited();
    assert.equal(status.code, 0);
    assert.ok(performance.now() - signalled < 2000, "shutdown waited for idle connections");
    for (const client of clients) assert.ok((await client.waitForClose(1000)) < 1000);
  } finally {
    for (const client of clients) client.close();
    server.kill("SIGKILL");
    await server.exited();
  }
});

Deno.test("a second INT forces the shutdown; so does --graceful-timeout", async () => {
  for (const how of ["second signal", "graceful timeout"]) {
    const extra = how === "graceful timeout" ? ["--graceful-timeout", "0.5"] : [];
    const server = await startForSignals(["--port", "0", "--workers", "1", ...extra, ...appArgs]);
    try {
      const client = await Client.connect(server.port);
      const slow = client.get("/slow?ms=20000", { timeoutMs: 20_000 }).catch((error) => error);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalled = performance.now();
      server.kill("SIGINT");
      if (how === "second signal") {
        await server.waitFor(/shutdown begun/);
        server.kill("SIGINT");
      }
      const status = await server.exited();
      assert.equal(status.code, 0, how);
      assert.ok(performance.now() - signalled < 3000, `${how}: exit took too long`);
      const cut = await slow;
      if (how === "second signal") {
        // The workers are terminated: the connection is cut.
        assert.ok(cut instanceof Error, `${how}: the slow request should have been cut`);
      } else {
        // At the graceful timeout the engine still runs: a request whose head has not gone out
        // gets a 503 and a close, not a reset.
        assert.ok(!(cut instanceof Error), `${how}: the slow request got no answer: ${cut}`);
        assert.equal(cut.status, 503, `${how}: the slow request is answered 503`);
        assert.equal(cut.close, true, `${how}: and the connection closes`);
      }
      assert.match(
        server.stderr(),
        how === "second signal" ? /second shutdown request/ : /graceful timeout reached/,
      );
      client.close();
    } finally {
      server.kill("SIGKILL");
      await server.exited();
    }
  }
});

Deno.test("TERM while a restarted worker still waits on an idle keep-alive connection: closed at once", async () => {
  const server = await startForSignals([
    "--port",
    "0",
    "--workers",
    "1",
    "--keepalive-timeout",
    "30",
    ...appArgs,
  ]);
  const probe = await Client.connect(server.port);
  const idle = await Client.connect(server.port);
  try {
    await probe.get("/");
    await idle.get("/");
    server.kill("SIGHUP");
    await server.waitFor(/worker 1 retiring: restart/);
    // Recycling leaves idle connections open for one more request...
    await assert.rejects(probe.waitForClose(300));
    // ...but a shutdown closes them at once.
    server.kill("SIGTERM");
    assert.ok((await idle.waitForClose(2000)) < 1000);
    const status = await server.exited();
    assert.equal(status.code, 0);
  } finally {
    probe.close();
    idle.close();
    server.kill("SIGKILL");
    await server.exited();
  }
});
