/**
 * Secrets inside the app's read grant (issue 13 item 14): symbolic links that lead outside the
 * grant, `.env` files, and the server's own files (TLS key, logs, pid file) inside it are named
 * at start; and the banner says what an app gets with UNIX and abstract sockets (item 16).
 */

import assert from "node:assert/strict";
import { readGrantWarnings, secretWarnings } from "../../lib/sandbox/secrets.ts";
import { describeAppPermissions } from "../../lib/sandbox/permissions.ts";
import { resolveOptions } from "../../lib/options/mod.ts";
import { makeSite, probe } from "../_helpers/permissions.ts";
import { repoRoot, startServer } from "../_helpers/server.ts";

Deno.test("a symbolic link out of the grant, a .env, and held files inside it are named", async () => {
  const root = await Deno.makeTempDir({ prefix: "starlight-secrets-" });
  try {
    const app = `${root}/app`;
    await Deno.mkdir(`${app}/deep/er`, { recursive: true });
    await Deno.mkdir(`${app}/node_modules/pkg`, { recursive: true });
    await Deno.writeTextFile(`${root}/outside.txt`, "secret");
    await Deno.writeTextFile(`${app}/data.txt`, "own");
    await Deno.symlink(`${root}/outside.txt`, `${app}/deep/er/leak`);
    await Deno.symlink("../data.txt", `${app}/deep/inside`);
    await Deno.symlink(`${root}/missing`, `${app}/dangling`);
    await Deno.symlink(`${root}/outside.txt`, `${app}/node_modules/pkg/skipped`);
    await Deno.writeTextFile(`${app}/.env`, "TOKEN=1");
    await Deno.writeTextFile(`${app}/deep/.env.local`, "TOKEN=2");

    const warnings = readGrantWarnings([app], [app], [
      { path: `${app}/key.pem`, what: "the TLS key" },
      { path: `${root}/error.log`, what: "the error log" },
      { path: `${app}/deep/server.pid`, what: "the pid file" },
    ]);
    const text = warnings.join("\n");
    assert.match(
      text,
      new RegExp(`^symbolic link ${app}/deep/er/leak -> ${root}/outside\\.txt leads outside`, "m"),
    );
    assert.match(text, new RegExp(`^symbolic link ${app}/dangling -> ${root}/missing leads`, "m"));
    assert.doesNotMatch(text, /deep\/inside|node_modules/, "links within the grant are fine");
    assert.match(text, new RegExp(`^${app}/\\.env lies inside the app's read grant`, "m"));
    assert.match(text, new RegExp(`^${app}/deep/\\.env\\.local lies inside`, "m"));
    assert.match(
      text,
      new RegExp(`^the TLS key ${app}/key\\.pem lies inside .*: the app can read it$`, "m"),
    );
    assert.match(text, new RegExp(`^the pid file ${app}/deep/server\\.pid lies inside`, "m"));
    assert.doesNotMatch(text, /error log/, "a log outside the grant is fine");
    assert.equal(warnings.length, 6, text);
    for (const warning of warnings) assert.doesNotMatch(warning, /\n/);

    // Bounded: a small entry budget stops the walk and says so.
    const bounded = readGrantWarnings([app], [app], [], { entries: 2, depth: 16 });
    assert.match(
      bounded.at(-1)!,
      /^stopped looking for symbolic links and \.env files after 2 entries/,
    );
    // Read access everywhere: every held file is readable, nothing else to say.
    assert.deepEqual(readGrantWarnings(true, [app], [{ path: "/k.pem", what: "the TLS key" }]), [
      "the TLS key /k.pem is readable by the app (it may read any file)",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("secretWarnings: from the options; none for --allow-all or --workers 0", async () => {
  const site = await makeSite();
  try {
    await Deno.symlink(`${site.root}/secret.txt`, `${site.srv}/app/link`);
    const options = {
      app: site.app,
      errorLog: `${site.srv}/app/error.log`,
      permissions: { read: [`${site.srv}/public`] },
    };
    const module = new URL("../../lib/pool/thread_worker.ts", import.meta.url).href;
    const warnings = secretWarnings(resolveOptions(options), module).join("\n");
    assert.match(
      warnings,
      new RegExp(`symbolic link ${site.srv}/app/link -> ${site.root}/secret\\.txt`),
    );
    assert.match(warnings, new RegExp(`the error log ${site.srv}/app/error\\.log lies inside`));
    assert.deepEqual(secretWarnings(resolveOptions({ ...options, workers: 0 }), module), []);
    assert.deepEqual(
      secretWarnings(resolveOptions({ ...options, permissions: { all: true } }), module),
      [],
    );
  } finally {
    await site.cleanup();
  }
});

Deno.test("at start the warning names the link, and the link really does reach the target", async () => {
  const site = await makeSite();
  try {
    await Deno.symlink(`${site.root}/secret.txt`, `${site.srv}/app/link`);
    const server = await startServer(["--port", "0", "--workers", "1", "app/app.ts"], {
      cwd: site.srv,
    });
    try {
      assert.match(
        server.stderr(),
        new RegExp(
          `\\[WARN\\] symbolic link ${site.srv}/app/link -> ${site.root}/secret\\.txt leads outside`,
        ),
      );
      assert.deepEqual(await probe(server.port, "read", `${site.srv}/app/link`), {
        ok: true,
        value: "top secret",
      });
      assert.equal(
        (await probe(server.port, "read", `${site.root}/secret.txt`)).error,
        "NotCapable",
      );
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  } finally {
    await site.cleanup();
  }
});

Deno.test("the banner says what sockets give the app: a loopback relay, not net=all", () => {
  const resolved = resolveOptions({
    app: `${repoRoot}tests/fixtures/listen/echo.ts`,
    listen: ["127.0.0.1:8080", "@starlight-abstract", "/run/app.sock"],
  });
  const line = describeAppPermissions(resolved, resolved.listeners);
  assert.match(
    line,
    /^app permissions: net=127\.0\.0\.1:8080,loopback relay of @starlight-abstract and \/run\/app\.sock; /,
  );
  assert.doesNotMatch(line, /net=all|unix:|\/run\/app\.sock,|write=/);
});

Deno.test("the banner says what a TLS port gives the app: its loopback relay, not the public port (issue 13, item 16)", () => {
  const resolved = resolveOptions({
    app: `${repoRoot}tests/fixtures/listen/echo.ts`,
    listen: ["127.0.0.1:8443"],
    ssl: true,
    sslKeyFile: "/tmp/key.pem",
    sslCertFile: "/tmp/cert.pem",
  });
  const line = describeAppPermissions(resolved, resolved.listeners);
  assert.match(line, /^app permissions: net=loopback relay of 127\.0\.0\.1:8443; /);
});
