/**
 * Which deno.json applies to the app, and the flags that make a process run with it (issue 16
 * item 1): pure rules, and the look-up on a real directory tree.
 */

import assert from "node:assert/strict";
import {
  appDenoFlags,
  configInForce,
  findAppConfig,
  nearestConfig,
  parseJsonc,
  withoutConfigFlags,
} from "../../lib/app/config.ts";
import { AppError } from "../../lib/app/errors.ts";
import { OptionError } from "../../lib/options/mod.ts";
import { relaunchFlags } from "../../lib/process/relaunch.ts";

Deno.test("the nearest deno.json or deno.jsonc at or above the app's directory applies", () => {
  const files = new Set(["/srv/deno.jsonc", "/srv/app/package.json", "/deno.json"]);
  const exists = (path: string) => files.has(path);
  assert.deepEqual(nearestConfig("/srv/app/routes", exists), {
    config: "/srv/deno.jsonc",
    packageJson: "/srv/app/package.json",
  });
  files.add("/srv/app/routes/deno.json");
  assert.deepEqual(nearestConfig("/srv/app/routes", exists), {
    config: "/srv/app/routes/deno.json",
    packageJson: undefined,
  });
  assert.deepEqual(nearestConfig("/opt", () => false), {
    config: undefined,
    packageJson: undefined,
  });
});

Deno.test("deno.jsonc: comments and trailing commas, but not inside strings", () => {
  assert.deepEqual(
    parseJsonc(`{
      // the import map
      "imports": { "a": "npm:a@1", /* inline */ "url": "https://x.test/a//b", },
      "unstable": ["kv", "cron",], // trailing
      "text": "a /* not a comment */ b, ]",
    }`),
    {
      imports: { a: "npm:a@1", url: "https://x.test/a//b" },
      unstable: ["kv", "cron"],
      text: "a /* not a comment */ b, ]",
    },
  );
  assert.throws(() => parseJsonc("{ nope }"), SyntaxError);
});

Deno.test("deno's config flags are replaced by the app's, however they were spelled", () => {
  assert.deepEqual(
    withoutConfigFlags([
      "-A",
      "--config",
      "/a.json",
      "-c",
      "b.json",
      "--config=c.json",
      "-cd.json",
      "-c=e.json",
      "--no-config",
      "--no-lock",
    ]),
    ["-A", "--no-lock"],
  );
  const config = {
    path: "/srv/app/deno.json",
    source: "nearest" as const,
    unstable: [],
    lonePackageJson: undefined,
  };
  // What `deno install` pins (its own stub config) gives way to the app's.
  assert.deepEqual(
    relaunchFlags(["--allow-all", "--config", "/bin/.starlight/deno.json"], config),
    [
      "--unstable-worker-options",
      "--unstable-net",
      "--no-prompt",
      "--allow-all",
      "--config",
      "/srv/app/deno.json",
    ],
  );
  assert.deepEqual(appDenoFlags({ ...config, path: undefined, source: "none" }), ["--no-config"]);
});

Deno.test("the config in force: --config, --no-config, else found from a local main module", () => {
  const files = new Set(["/opt/starlight/deno.json"]);
  const exists = (path: string) => files.has(path);
  const local = "file:///opt/starlight/mod.ts";
  assert.equal(configInForce(["-A"], local, "/srv", exists), "/opt/starlight/deno.json");
  assert.equal(configInForce(["-A", "--no-config"], local, "/srv", exists), undefined);
  assert.equal(configInForce(["-c", "app/deno.json"], local, "/srv", exists), "/srv/app/deno.json");
  assert.equal(configInForce(["--config=/x/deno.jsonc"], local, "/srv", exists), "/x/deno.jsonc");
  // Deno discovers no config for a main module loaded from a URL.
  assert.equal(configInForce(["-A"], "https://x.test/mod.ts", "/srv", exists), undefined);
  assert.equal(configInForce(["-A"], "jsr:@x/starlight", "/srv", exists), undefined);
});

Deno.test("findAppConfig on disk: --config, the nearest file, none; bad files named in one line", async () => {
  const root = await Deno.makeTempDir({ prefix: "starlight-config-" });
  try {
    await Deno.mkdir(`${root}/proj/src`, { recursive: true });
    await Deno.writeTextFile(`${root}/proj/deno.jsonc`, '{ "unstable": ["kv",] // KV\n}');
    await Deno.writeTextFile(`${root}/proj/src/app.ts`, "");
    const app = `file://${root}/proj/src/app.ts`;
    assert.deepEqual(findAppConfig(app, undefined), {
      path: `${root}/proj/deno.jsonc`,
      source: "nearest",
      unstable: ["kv"],
      lonePackageJson: undefined,
    });
    await Deno.writeTextFile(`${root}/other.json`, "{}");
    assert.equal(findAppConfig(app, `${root}/other.json`).source, "option");
    assert.throws(
      () => findAppConfig(app, `${root}/missing.json`),
      (error: unknown) =>
        error instanceof OptionError &&
        /^--config .*missing\.json: not a readable file$/.test(error.message),
    );
    assert.deepEqual(findAppConfig("https://x.test/app.ts", undefined), {
      path: undefined,
      source: "none",
      unstable: [],
      lonePackageJson: undefined,
    });
    await Deno.writeTextFile(`${root}/proj/deno.jsonc`, "{ not json");
    assert.throws(
      () => findAppConfig(app, undefined),
      (error: unknown) =>
        error instanceof AppError &&
        error.message.startsWith(`the app's config ${root}/proj/deno.jsonc: `) &&
        !error.message.includes("\n"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
