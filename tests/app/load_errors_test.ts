/**
 * Start-up errors keep what Deno says (issue 16 item 4): a syntax error names file:line:column,
 * a missing import names the missing module (not "app file not found"), a missing unstable API
 * names the flag or config entry, an error thrown while loading shows its first frames; and a
 * HUP whose new code fails leaves the old workers serving, with the same words in the log.
 */

import assert from "node:assert/strict";
import { describeAppError, describeLoadError, unstableHint } from "../../lib/app/errors.ts";
import { startServer } from "../_helpers/server.ts";
import { fetchWithin } from "../_helpers/examples.ts";
import { runCli } from "../_helpers/listen.ts";

const SOURCES: Record<string, string> = {
  "syntax.ts": `export default {
  fetch() {
    return new Response("never");
  }
  this is not TypeScript
};
`,
  "missing_import.ts": `import { value } from "./not_there.ts";

export default { fetch: () => new Response(value) };
`,
  "throws_at_load.ts": `function connect(): never {
  throw new Error("cannot reach the database at load");
}

connect();

export default { fetch: () => new Response("never") };
`,
  "kv_without_flag.ts": `const kv = await Deno.openKv(":memory:");

export default { fetch: async () => new Response(String((await kv.get(["x"])).value)) };
`,
  "unmapped.ts": `import leftPad from "left-pad-not-mapped";

export default { fetch: () => new Response(leftPad("x", 3)) };
`,
  "good.ts": `export default { fetch: () => new Response("old code") };
`,
};

/** A directory (without deno.json) holding every source above. */
async function errorApps(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "starlight-load-errors-" });
  for (const [name, source] of Object.entries(SOURCES)) {
    await Deno.writeTextFile(`${dir}/${name}`, source);
  }
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/** What describeLoadError makes of importing `file` here, in the test's own process. */
async function described(file: string): Promise<string> {
  const url = `file://${file}`;
  try {
    await import(url);
  } catch (error) {
    return describeLoadError(url, error);
  }
  throw new Error(`${file} loaded`);
}

Deno.test("describeLoadError: Deno's own words, the first line naming the app and the problem", async () => {
  const { dir, cleanup } = await errorApps();
  try {
    const syntax = (await described(`${dir}/syntax.ts`)).split("\n");
    assert.equal(
      syntax[0],
      `${dir}/syntax.ts: cannot load the app: ${dir}/syntax.ts:5:3: SyntaxError: Expected ',', got 'this'`,
    );
    assert.ok(
      syntax.some((line) => /^ {4}5 \| {3}this is not TypeScript$/.test(line)),
      syntax.join("\n"),
    );

    assert.equal(
      await described(`${dir}/missing_import.ts`),
      `${dir}/missing_import.ts: cannot load the app: module not found: ${dir}/not_there.ts ` +
        `(imported at ${dir}/missing_import.ts:1:23)`,
    );
    assert.equal(await described(`${dir}/absent.ts`), `${dir}/absent.ts: app file not found`);

    const thrown = (await described(`${dir}/throws_at_load.ts`)).split("\n");
    assert.equal(
      thrown[0],
      `${dir}/throws_at_load.ts: the app threw while loading: Error: cannot reach the database at load`,
    );
    assert.match(thrown[1], new RegExp(`^ {4}at connect \\(${dir}/throws_at_load\\.ts:2:9\\)$`));
    assert.match(thrown[2], new RegExp(`^ {4}at ${dir}/throws_at_load\\.ts:5:1$`));
    assert.ok(thrown.length <= 6, "the first frames only");
    assert.ok(!thrown.some((line) => line.includes("/lib/")), "no Starlight frames");

    const unmapped = await described(`${dir}/unmapped.ts`);
    assert.match(
      unmapped,
      new RegExp(
        `^${dir}/unmapped\\.ts: cannot load the app: ${dir}/unmapped\\.ts:1:21: Import "left-pad-not-mapped" not a dependency`,
      ),
    );
    assert.match(unmapped, /hint: Starlight applies the deno\.json nearest above the app file/);
    assert.ok(!unmapped.includes("\x1b"), "no colour codes");
  } finally {
    await cleanup();
  }
});

Deno.test("a missing unstable API names the flag and the config entry", () => {
  assert.equal(
    unstableHint("Deno.openKv is not a function"),
    'Deno.openKv is unstable: add "kv" to "unstable" in the app\'s deno.json, or run deno with --unstable-kv',
  );
  assert.match(unstableHint("Deno.cron is not a function")!, /"cron".*--unstable-cron/);
  assert.match(unstableHint("Temporal is not defined")!, /--unstable-temporal/);
  assert.match(unstableHint("BroadcastChannel is not defined")!, /--unstable-broadcast-channel/);
  assert.equal(unstableHint("x is not a function"), undefined);
  const described = describeAppError(new TypeError("Deno.openKv is not a function"));
  assert.match(
    described,
    /^TypeError: Deno\.openKv is not a function\n {4}\(Deno\.openKv is unstable: /,
  );
});

for (const workers of ["1", "0"]) {
  Deno.test(`the CLI prints them and exits 1 (--workers ${workers})`, async () => {
    const { dir, cleanup } = await errorApps();
    try {
      const start = async (file: string) => {
        const result = await runCli(["--port", "0", "--workers", workers, `${dir}/${file}`], {
          cwd: dir,
          timeoutMs: 30_000,
        });
        assert.equal(result.code, 1, result.stderr);
        return result.stderr;
      };
      assert.match(
        await start("syntax.ts"),
        new RegExp(
          `^starlight: ${dir}/syntax\\.ts: cannot load the app: ${dir}/syntax\\.ts:5:3: SyntaxError: `,
          "m",
        ),
      );
      assert.match(
        await start("missing_import.ts"),
        new RegExp(
          `^starlight: .*module not found: ${dir}/not_there\\.ts \\(imported at ${dir}/missing_import\\.ts:1:23\\)$`,
          "m",
        ),
      );
      const kv = await start("kv_without_flag.ts");
      assert.match(
        kv,
        /^starlight: .*kv_without_flag\.ts: the app threw while loading: TypeError: Deno\.openKv is not a function$/m,
      );
      assert.match(
        kv,
        /^ {4}\(Deno\.openKv is unstable: add "kv" to "unstable" in the app's deno\.json, or run deno with --unstable-kv\)$/m,
      );
      const thrown = await start("throws_at_load.ts");
      assert.match(
        thrown,
        /the app threw while loading: Error: cannot reach the database at load\n {4}at connect \(/,
      );
      assert.match(
        await start("absent.ts"),
        new RegExp(`^starlight: ${dir}/absent\\.ts: app file not found$`, "m"),
      );
    } finally {
      await cleanup();
    }
  });
}

Deno.test("HUP with new code that does not load: the log says why, the old workers keep serving", async () => {
  const { dir, cleanup } = await errorApps();
  const app = `${dir}/app.ts`;
  await Deno.copyFile(`${dir}/good.ts`, app);
  const server = await startServer(["--host", "127.0.0.1", "--port", "0", "--workers", "2", app], {
    cwd: dir,
  });
  try {
    await Deno.copyFile(`${dir}/syntax.ts`, app);
    server.kill("SIGHUP");
    await server.waitFor(/restart stopped after 0 of 2 worker\(s\)/);
    assert.match(
      server.stderr(),
      new RegExp(
        `\\[ERROR\\] worker \\d could not start.*: ${app}: cannot load the app: ${app}:5:3: SyntaxError: Expected ',', got 'this'\\n`,
      ),
    );
    const response = await fetchWithin(`http://127.0.0.1:${server.port}/`);
    assert.equal(await response.text(), "old code");

    await Deno.copyFile(`${dir}/throws_at_load.ts`, app);
    server.kill("SIGHUP");
    await server.waitFor(
      /the app threw while loading: Error: cannot reach the database at load\n {8}at connect/,
    );
    assert.equal(await (await fetchWithin(`http://127.0.0.1:${server.port}/`)).text(), "old code");
    assert.equal((await server.stop()).code, 0);
  } finally {
    server.kill("SIGKILL");
    await cleanup();
  }
});
