/**
 * npm packages in the default sandbox: a Hono app (`npm:hono@4.13.19`) loads and serves from
 * Deno's global npm cache, and from a project's `node_modules` when Starlight itself is loaded
 * from a remote URL, as `deno run -A jsr:@x/starlight` would.
 */

import assert from "node:assert/strict";
import { repoRoot, startServer } from "../_helpers/server.ts";
import { staticServer } from "../_helpers/static_server.ts";

const HONO_APP = new URL("../fixtures/permissions/hono_app.ts", import.meta.url);

async function get(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}`);
  return text;
}

async function assertHonoServes(port: number, packagesUnder: string): Promise<void> {
  assert.equal(await get(port, "/"), "hono ok");
  const manifest = JSON.parse(await get(port, "/package"));
  assert.equal(manifest.version, "4.13.19");
  assert.ok(
    manifest.path.startsWith(packagesUnder),
    `${manifest.path} should be under ${packagesUnder}`,
  );
  assert.equal(await get(port, "/denied"), "NotCapable");
}

Deno.test("a Hono app from npm serves in the default sandbox", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starlight-hono-" });
  await Deno.copyFile(HONO_APP, `${dir}/app.ts`);
  const server = await startServer(["--port", "0", "--workers", "1", "app.ts"], {
    cwd: dir,
    timeoutMs: 60_000,
  });
  try {
    const denoDir = new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
        .output()).stdout,
    );
    await assertHonoServes(server.port, JSON.parse(denoDir).denoDir);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a project's node_modules, with Starlight loaded from a remote URL", async () => {
  const project = await Deno.makeTempDir({ prefix: "starlight-nm-" });
  await Deno.writeTextFile(`${project}/deno.json`, JSON.stringify({ nodeModulesDir: "auto" }));
  await Deno.mkdir(`${project}/src`);
  await Deno.copyFile(HONO_APP, `${project}/src/app.ts`);
  const files = await staticServer(repoRoot);
  // No --no-prompt and no unstable flags: the CLI re-launches itself with them. A remote main
  // module does not pick up ./deno.json by itself, hence --config.
  const server = await startServer(["--port", "0", "--workers", "1", "src/app.ts"], {
    cwd: project,
    entry: `${files.url}/mod.ts`,
    denoFlags: ["-A", "--config", `${project}/deno.json`],
    timeoutMs: 60_000,
  });
  try {
    await assertHonoServes(server.port, `${project}/node_modules/`);
    const entry = Deno.env.get("STARLIGHT_TEST_ISOLATION") === "process"
      ? "/lib/pool/process_worker.ts"
      : "/lib/pool/thread_worker.ts";
    assert.ok(files.requests.includes(entry), "the worker module came from the URL");
  } finally {
    await server.stop();
    await files.close();
    await Deno.remove(project, { recursive: true });
  }
});
