/**
 * Running Starlight from a plain URL, as `deno run -A https://example.com/starlight/mod.ts`
 * would: the package directory is served over HTTP on 127.0.0.1 exactly as it is on disk, and
 * the server is started from a temporary directory with no deno.json, so the repository's
 * import map does not apply and every import in mod.ts, cli.ts and lib/ must resolve on its
 * own. The app is a local file; the worker module comes from the URL.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { repoRoot, startServer } from "./_helpers/server.ts";
import { fetchWithin, runDeno } from "./_helpers/examples.ts";
import { staticServer } from "./_helpers/static_server.ts";

const APP = `export default {
  fetch(request: Request): Response {
    return new Response("remote ok: " + new URL(request.url).pathname);
  },
};
`;

const { version } = JSON.parse(await Deno.readTextFile(`${repoRoot}deno.json`));

/** Why a bare specifier failed, and what fixes it, for the assertion message. */
function explain(output: string): string {
  const bare = output.match(/Import "([^"]+)" not a dependency/)?.[1] ??
    output.match(/Relative import path "([^"]+)" not prefixed/)?.[1];
  if (bare === undefined) return output;
  return `${output}\n\n"${bare}" is a bare specifier: it resolves only through deno.json's ` +
    `import map, which a module loaded by URL does not have (JSR rewrites such imports at ` +
    `publish time; a web server does not). Import it as a full specifier (npm:${bare}@VERSION).`;
}

/** Fails if a deno.json, deno.jsonc or package.json above `dir` could lend it an import map. */
async function assertNoConfigAbove(dir: string): Promise<void> {
  for (let at = dir;; at = dirname(at)) {
    for (const name of ["deno.json", "deno.jsonc", "package.json"]) {
      await assert.rejects(Deno.stat(`${at}/${name}`), Deno.errors.NotFound, `${at}/${name}`);
    }
    if (dirname(at) === at) break;
  }
}

Deno.test("mod.ts from an http URL serves a local app from a directory without deno.json", async (t) => {
  const files = staticServer(repoRoot);
  const dir = await Deno.makeTempDir({ prefix: "starlight-remote-" });
  try {
    await Deno.writeTextFile(`${dir}/app.ts`, APP);
    await assertNoConfigAbove(dir);
    const entry = `${files.url}/mod.ts`;

    await t.step("--version", async () => {
      const result = await runDeno(["run", "-A", entry, "--version"], {
        cwd: dir,
        timeoutMs: 45_000,
      });
      assert.equal(result.code, 0, explain(result.stderr));
      assert.match(
        result.stdout,
        new RegExp(`^Starlight/${version.replaceAll(".", "\\.")} \\(Deno `),
      );
    });

    await t.step("serving, with the worker module loaded from the URL", async () => {
      let server;
      try {
        server = await startServer(
          ["--host", "127.0.0.1", "--port", "0", "--workers", "1", "app.ts"],
          { entry, cwd: dir, timeoutMs: 45_000 },
        );
      } catch (error) {
        throw new Error(explain((error as Error).message));
      }
      try {
        const response = await fetchWithin(`http://127.0.0.1:${server.port}/hello`);
        assert.equal(await response.text(), "remote ok: /hello");
        assert.equal(response.headers.get("server"), `Starlight/${version}`);
        assert.ok(files.requests.includes("/mod.ts"));
        assert.ok(
          files.requests.includes("/lib/pool/thread_worker.ts"),
          `the worker module was not loaded from ${files.url}: ${files.requests.join(" ")}`,
        );
        assert.ok(
          !files.requests.some((path) => path.startsWith("/tests/") || path === "/app.ts"),
          "only the package's own modules come from the URL",
        );
      } finally {
        const status = await server.stop();
        assert.equal(status.code, 0, server.stderr());
      }
    });
  } finally {
    await files.close();
    await Deno.remove(dir, { recursive: true });
  }
});
