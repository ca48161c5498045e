/**
 * The app's sandbox, end to end: a real server (`deno run -A --no-prompt mod.ts`) serving the
 * probe app from a temporary directory without deno.json, and the app trying things.
 */

import assert from "node:assert/strict";
import { repoRoot, startServer } from "../_helpers/server.ts";
import {
  libraryPath,
  makeSite,
  probe,
  type ProbeResult,
  sinkListener,
} from "../_helpers/permissions.ts";
import { staticServer } from "../_helpers/static_server.ts";

/**
 * A denial: `Deno.errors.NotCapable` naming the resource. A denied `import()` rejects with a
 * TypeError from the module loader instead, with the same "Requires import access" message.
 */
function assertDenied(result: ProbeResult, resource: string, errorClass = "NotCapable"): void {
  assert.equal(result.ok, false, `expected a denial of ${resource}, got ${JSON.stringify(result)}`);
  assert.equal(result.error, errorClass, JSON.stringify(result));
  assert.match(result.message ?? "", /^Requires \w+ access to /, JSON.stringify(result));
  assert.ok(result.message?.includes(resource), `${result.message} should name ${resource}`);
}

function assertAllowed(result: ProbeResult, value?: unknown): void {
  assert.equal(result.ok, true, `expected success, got ${JSON.stringify(result)}`);
  if (value !== undefined) assert.deepEqual(result.value, value);
}

/** A remote module the app may try to import. */
const MODULE = { "/mod.ts": 'export default "imported";' };

Deno.test("default sandbox: only the app's own directory; everything else denied", async (t) => {
  const site = await makeSite();
  const sink = sinkListener();
  const modules = await staticServer("/nonexistent", { files: MODULE });
  const server = await startServer(["--port", "0", "--workers", "1", "app/app.ts"], {
    cwd: site.srv,
    env: { FOO: "foo-value" },
  });
  try {
    await t.step("reading a file inside its own directory works", async () => {
      assertAllowed(await probe(server.port, "own"), "own data");
      assertAllowed(await probe(server.port, "read", `${site.srv}/app/data.txt`), "own data");
    });
    await t.step("reading outside it is denied", async () => {
      assertDenied(await probe(server.port, "read", "/etc/hostname"), "/etc/hostname");
      assertDenied(await probe(server.port, "read", `${site.root}/secret.txt`), "secret.txt");
      assertDenied(await probe(server.port, "read", "public/x.txt"), "public/x.txt");
    });
    await t.step("env, run, write, outbound net, ffi, sys and imports are denied", async () => {
      assertDenied(await probe(server.port, "env", "FOO"), "FOO");
      assertDenied(await probe(server.port, "run", "true"), "true");
      assertDenied(await probe(server.port, "write", `${site.srv}/app/new.txt`), "new.txt");
      assertDenied(
        await probe(server.port, "net", `127.0.0.1:${sink.port}`),
        `127.0.0.1:${sink.port}`,
      );
      assertDenied(await probe(server.port, "ffi", libraryPath()), libraryPath());
      assertDenied(await probe(server.port, "sys", "hostname"), "hostname");
      assertDenied(
        await probe(server.port, "import", `${modules.url}/mod.ts`),
        `127.0.0.1:${modules.port}`,
        "TypeError",
      );
      await assert.rejects(Deno.stat(`${site.srv}/app/new.txt`), Deno.errors.NotFound);
      assert.deepEqual(modules.requests, [], "a denied import never reaches the network");
    });
    await t.step(
      "an uncaught NotCapable is a 500, logged once; the worker keeps serving",
      async () => {
        for (let i = 0; i < 5; i++) {
          const response = await fetch(`http://127.0.0.1:${server.port}/?op=uncaught`);
          assert.equal(response.status, 500);
          await response.body?.cancel();
        }
        assertAllowed(await probe(server.port, "ping"), "pong");
        // Log lines travel from the worker through the supervisor: give them a moment.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const lines = server.stderr().split("\n").filter((line) =>
          line.includes('"/etc/hostname"')
        );
        // The probes above caught their denials; the five uncaught ones are reported once.
        assert.equal(lines.length, 1, server.stderr());
        assert.match(lines[0], /permission denied|NotCapable|Requires read access/);
      },
    );
  } finally {
    await server.stop();
    sink.close();
    await modules.close();
    await site.cleanup();
  }
});

Deno.test("each --allow-* flag grants exactly its scope", async (t) => {
  const site = await makeSite();
  const allowedSink = sinkListener();
  const otherSink = sinkListener();
  const allowedModules = await staticServer("/nonexistent", { files: MODULE });
  const otherModules = await staticServer("/nonexistent", { files: MODULE });
  const library = libraryPath();
  const server = await startServer([
    "--port",
    "0",
    "--workers",
    "1",
    "--allow-read=./public",
    "--allow-write=./out",
    "--allow-env=FOO",
    "--allow-run=true",
    `--allow-net=127.0.0.1:${allowedSink.port}`,
    "--allow-sys=hostname",
    `--allow-ffi=${library}`,
    `--allow-import=127.0.0.1:${allowedModules.port}`,
    "app/app.ts",
  ], { cwd: site.srv, env: { FOO: "foo-value", BAR: "bar-value" } });
  try {
    await t.step("--allow-read=./public: public/x but not ../secret", async () => {
      assertAllowed(await probe(server.port, "read", "public/x.txt"), "public x");
      assertAllowed(await probe(server.port, "read", `${site.srv}/public/x.txt`), "public x");
      assertDenied(await probe(server.port, "read", "../secret.txt"), "secret.txt");
      assertDenied(await probe(server.port, "read", "public/../../secret.txt"), "secret.txt");
      assertDenied(await probe(server.port, "read", "/etc/hostname"), "/etc/hostname");
    });
    await t.step("--allow-write=./out: out/ only, and reading is not writing", async () => {
      assertAllowed(await probe(server.port, "write", "out/f.txt"), "written");
      assert.equal(await Deno.readTextFile(`${site.srv}/out/f.txt`), "written by the app");
      assertDenied(await probe(server.port, "write", "public/f.txt"), "public/f.txt");
      assertDenied(await probe(server.port, "write", `${site.root}/f.txt`), "f.txt");
    });
    await t.step("--allow-env=FOO: FOO but not BAR", async () => {
      assertAllowed(await probe(server.port, "env", "FOO"), "foo-value");
      assertDenied(await probe(server.port, "env", "BAR"), "BAR");
    });
    await t.step("--allow-run=true: true but not false", async () => {
      assertAllowed(await probe(server.port, "run", "true"), 0);
      assertDenied(await probe(server.port, "run", "false"), "false");
    });
    await t.step("--allow-net=127.0.0.1:PORT: that port, not another", async () => {
      assertAllowed(await probe(server.port, "net", `127.0.0.1:${allowedSink.port}`), "connected");
      assertDenied(
        await probe(server.port, "net", `127.0.0.1:${otherSink.port}`),
        `127.0.0.1:${otherSink.port}`,
      );
    });
    await t.step("--allow-sys=hostname: hostname, not osRelease", async () => {
      assertAllowed(await probe(server.port, "sys", "hostname"), Deno.hostname());
      assertDenied(await probe(server.port, "sys", "osRelease"), "osRelease");
    });
    await t.step("--allow-ffi=LIB: that library only", async () => {
      assertAllowed(await probe(server.port, "ffi", library), "loaded");
      assertDenied(await probe(server.port, "ffi", `${site.srv}/app/other.so`), "other.so");
    });
    await t.step("--allow-import=HOST: that host, not another", async () => {
      assertAllowed(await probe(server.port, "import", `${allowedModules.url}/mod.ts`), "imported");
      assertDenied(
        await probe(server.port, "import", `${otherModules.url}/mod.ts`),
        `127.0.0.1:${otherModules.port}`,
        "TypeError",
      );
      assert.deepEqual(otherModules.requests, []);
    });
  } finally {
    await server.stop();
    allowedSink.close();
    otherSink.close();
    await allowedModules.close();
    await otherModules.close();
    await site.cleanup();
  }
});

Deno.test("asking for more than the server holds is a start-up error naming it", async () => {
  const site = await makeSite();
  try {
    const run = (serverFlags: string[], grants: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...serverFlags,
          "--no-prompt",
          `${repoRoot}mod.ts`,
          "--port",
          "0",
          "--workers",
          "1",
          ...grants,
          "app/app.ts",
        ],
        cwd: site.srv,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    const [env, net] = await Promise.all([
      run(["--allow-net", "--allow-read"], ["--allow-env=FOO"]),
      run(["--allow-net=0.0.0.0", "--allow-read", "--allow-env"], ["--allow-net=127.0.0.1:5432"]),
    ]);
    for (
      const [output, named] of [[env, 'env access to "FOO"'], [
        net,
        'net access to "127.0.0.1:5432"',
      ]] as const
    ) {
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      assert.match(stderr, /^starlight: cannot give the app /m);
      assert.ok(stderr.includes(named), stderr);
      assert.doesNotMatch(stderr, /escalate|panic|Stack backtrace|^\s+at /m);
    }
  } finally {
    await site.cleanup();
  }
});
