/**
 * Re-launching: the CLI started without the unstable flags (here: loaded from a URL, as
 * `deno run -A jsr:@x/starlight` is, so no deno.json supplies them) starts itself once more
 * with them and `--no-prompt`, and never leaves that child behind.
 */

import assert from "node:assert/strict";
import { RELAUNCH_FLAGS, splitCommandLine } from "../../lib/process/relaunch.ts";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import {
  alive,
  childrenOf,
  cmdline,
  denoProcesses,
  makeSite,
  probe,
  type Site,
  until,
  waitGone,
} from "../_helpers/permissions.ts";
import { staticServer } from "../_helpers/static_server.ts";

Deno.test("splitCommandLine: runtime flags before the script, never the program's", () => {
  assert.deepEqual(
    splitCommandLine(["deno", "run", "-A", "--no-prompt", "mod.ts", "--port", "0", "app.ts"], [
      "--port",
      "0",
      "app.ts",
    ]),
    { flags: ["-A", "--no-prompt"], program: ["mod.ts", "--port", "0", "app.ts"] },
  );
  // A --no-prompt among the program's arguments is not the runtime's.
  assert.deepEqual(
    splitCommandLine(["deno", "run", "-A", "mod.ts", "--no-prompt"], ["--no-prompt"]),
    { flags: ["-A"], program: ["mod.ts", "--no-prompt"] },
  );
  // `deno mod.ts` without `run`, and flags taking separate values.
  assert.deepEqual(
    splitCommandLine(["deno", "--config", "x.json", "mod.ts", "app.ts"], ["app.ts"]),
    { flags: ["--config", "x.json"], program: ["mod.ts", "app.ts"] },
  );
  assert.equal(splitCommandLine(["deno"], ["a", "b"]), undefined);
  assert.equal(
    splitCommandLine(["deno", "x", "jsr:@x/starlight", "app.ts"], ["app.ts"]),
    undefined,
  );
});

Deno.test("from a directory without deno.json: a local path and a file: URL both serve", async () => {
  const site = await makeSite();
  try {
    for (const entry of [`${repoRoot}mod.ts`, `file://${repoRoot}mod.ts`]) {
      const server = await startServer(["--port", "0", "--workers", "1", "app/app.ts"], {
        cwd: site.srv,
        entry,
        denoFlags: ["-A"],
      });
      try {
        assert.equal((await probe(server.port, "own")).value, "own data");
        assert.equal((await probe(server.port, "read", "/etc/hostname")).error, "NotCapable");
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    }
  } finally {
    await site.cleanup();
  }
});

/** Starts the CLI from a URL, without flags: it must re-launch. Returns parent and child. */
async function startRemote(
  site: Site,
  files: { url: string },
): Promise<{ server: RunningServer; parent: number; child: number }> {
  const args = ["--port", "0", "--workers", "1", "--allow-env=STARLIGHT_RELAUNCHED", "app/app.ts"];
  const server = await startServer(args, {
    cwd: site.srv,
    entry: `${files.url}/mod.ts`,
    denoFlags: ["-A"],
    timeoutMs: 60_000,
  });
  const parent = server.process.pid;
  const children = denoProcesses(childrenOf(parent));
  assert.equal(children.length, 1, `one re-launched child, got ${children}`);
  return { server, parent, child: children[0] };
}

Deno.test("from a URL: re-launches exactly once, with the flags, and the sandbox holds", async () => {
  const site = await makeSite();
  const files = await staticServer(repoRoot);
  try {
    const { server, child } = await startRemote(site, files);
    try {
      const line = cmdline(child)!;
      assert.deepEqual(line.slice(1, 2 + RELAUNCH_FLAGS.length), ["run", ...RELAUNCH_FLAGS]);
      assert.ok(line.includes(`${files.url}/mod.ts`), line.join(" "));
      assert.deepEqual(denoProcesses(childrenOf(child)), [], "no second level of re-launch");
      // The worker module came from the URL: the worker may import from that host.
      assert.ok(files.requests.includes("/lib/pool/thread_worker.ts"));
      assert.equal((await probe(server.port, "own")).value, "own data");
      const denied = await probe(server.port, "read", "/etc/hostname");
      assert.equal(denied.error, "NotCapable", JSON.stringify(denied));
      // The child removed the mark from its environment: nothing the app runs inherits it.
      assert.deepEqual(await probe(server.port, "env", "STARLIGHT_RELAUNCHED"), {
        ok: true,
        value: null,
      });
    } finally {
      // SIGTERM to the parent: forwarded, the child shuts down gracefully, the parent follows.
      const status = await server.stop();
      assert.equal(status.code, 0, server.stderr());
      await waitGone(child, 10_000);
      assert.match(server.stderr(), /shutdown finished/);
    }
  } finally {
    await files.close();
    await site.cleanup();
  }
});

Deno.test("SIGKILL of the parent: the re-launched child exits by itself (stdin EOF)", async () => {
  const site = await makeSite();
  const files = await staticServer(repoRoot);
  try {
    const { server, child } = await startRemote(site, files);
    server.kill("SIGKILL");
    assert.ok(alive(child));
    await waitGone(child, 10_000);
    await server.exited();
    await until(
      "the child's shutdown in the log",
      () => /shutdown finished/.test(server.stderr()) ? true : undefined,
    );
  } finally {
    await files.close();
    await site.cleanup();
  }
});

Deno.test("STARLIGHT_RELAUNCHED=1 without the flags: refused, never a second re-launch", async () => {
  const site = await makeSite();
  const files = await staticServer(repoRoot);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${files.url}/mod.ts`, "--port", "0", "app/app.ts"],
      cwd: site.srv,
      env: { STARLIGHT_RELAUNCHED: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(stderr, /starlight: STARLIGHT_RELAUNCHED=1 is set, but this process still lacks/);
    assert.doesNotMatch(stderr, /listening at/);
  } finally {
    await files.close();
    await site.cleanup();
  }
});
