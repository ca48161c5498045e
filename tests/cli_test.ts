/**
 * The command line as a user runs it, for what the other suites do not cover: an app that
 * imports Starlight itself, in the main thread and in workers.
 */

import assert from "node:assert/strict";
import { repoRoot, startServer } from "./_helpers/server.ts";
import { VERSION } from "../mod.ts";

const APP = `${repoRoot}tests/fixtures/cli/imports_starlight.ts`;

for (const workers of ["0", "1"]) {
  Deno.test(`an app importing mod.ts is served with --workers ${workers}`, async () => {
    const server = await startServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--workers",
      workers,
      APP,
    ], {
      timeoutMs: 20_000,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/`, {
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(await response.text(), `served by ${VERSION}`);
    } finally {
      const status = await server.stop();
      assert.equal(status.code, 0, server.stderr());
    }
  });
}
