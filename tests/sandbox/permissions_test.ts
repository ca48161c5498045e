/**
 * The permission set's composition and description, in process (this test process has -A, so
 * every default is held), and the escalation check in a child process with fewer permissions.
 */

import assert from "node:assert/strict";
import {
  composePermissions,
  DEFAULT_IMPORT_HOSTS,
  denoDir,
  describePermissions,
  describeRequestedPermissions,
  packageDirectories,
} from "../../lib/sandbox/permissions.ts";
import type { ListenSpec } from "../../lib/listen/spec.ts";
import type { ResolvedPermissions } from "../../lib/options/mod.ts";

const NONE: ResolvedPermissions = {
  net: false,
  read: false,
  write: false,
  env: false,
  run: false,
  sys: false,
  ffi: false,
  import: false,
  all: false,
};
const TCP: ListenSpec = { kind: "tcp", hostname: "0.0.0.0", port: 5000 };
const WORKER = "file:///opt/starlight/lib/pool/thread_worker.ts";
const APP = "file:///srv/site/app.ts";

type PermissionObject = Exclude<Deno.PermissionOptions, "inherit" | "none">;

function compose(
  granted: Partial<ResolvedPermissions>,
  listeners: ListenSpec[] = [TCP],
  app: string = APP,
  worker: string = WORKER,
): PermissionObject {
  const permissions = composePermissions({ ...NONE, ...granted }, listeners, app, worker);
  assert.notEqual(typeof permissions, "string");
  return permissions as PermissionObject;
}

Deno.test("default: net for the listeners, read for the app's directory and npm packages", () => {
  const permissions = compose({});
  assert.deepEqual(permissions.net, ["0.0.0.0:5000"]);
  // Starlight's own directory, for apps that import it from a local checkout.
  assert.deepEqual(permissions.read, [
    "/srv/site",
    `${denoDir()}/npm`,
    "/opt/starlight/mod.ts",
    "/opt/starlight/lib",
  ]);
  for (const kind of ["write", "env", "run", "sys", "ffi"] as const) {
    assert.equal(permissions[kind], false, kind);
  }
  // Imports as Deno allows them by default; a local worker module adds no host.
  assert.deepEqual(permissions.import, DEFAULT_IMPORT_HOSTS);
});

Deno.test("grants are added to the defaults; a bare flag is everything of its kind", () => {
  const permissions = compose({
    net: ["db:5432"],
    read: ["/srv/public"],
    env: ["DATABASE_URL"],
    write: true,
  });
  assert.deepEqual(permissions.net, ["0.0.0.0:5000", "db:5432"]);
  assert.deepEqual(permissions.read, [
    "/srv/site",
    `${denoDir()}/npm`,
    "/opt/starlight/mod.ts",
    "/opt/starlight/lib",
    "/srv/public",
  ]);
  assert.deepEqual(permissions.env, ["DATABASE_URL"]);
  assert.equal(permissions.write, true);
  assert.equal(compose({ net: true }).net, true);
  assert.equal(composePermissions({ ...NONE, all: true }, [TCP], APP, WORKER), "inherit");
});

Deno.test("listeners: IPv6, UNIX and abstract sockets", () => {
  const v6 = compose({}, [{ kind: "tcp", hostname: "::", port: 8080 }]);
  assert.deepEqual(v6.net, ["[::]:8080"]);
  const unix = compose({}, [{ kind: "unix", path: "/run/app.sock" }]);
  assert.deepEqual(unix.net, ["unix:/run/app.sock"]);
  assert.ok((unix.read as string[]).includes("/run/app.sock"));
  assert.deepEqual(unix.write, ["/run/app.sock"]);
  // Deno has no descriptor for abstract sockets: they need all of net.
  assert.equal(compose({}, [{ kind: "abstract", name: "app" }]).net, true);
});

Deno.test("remote worker module and app: their hosts may be imported from", () => {
  const permissions = compose(
    {},
    [TCP],
    "http://127.0.0.1:8000/app.ts",
    "https://example.com:8443/starlight/lib/pool/thread_worker.ts",
  );
  assert.deepEqual(permissions.import, [
    ...DEFAULT_IMPORT_HOSTS,
    "example.com:8443",
    "127.0.0.1:8000",
  ]);
  // No local app directory to read.
  assert.deepEqual(permissions.read, [`${denoDir()}/npm`]);
});

Deno.test("packageDirectories: node_modules of the app's directory and of projects above", async () => {
  const root = await Deno.makeTempDir({ prefix: "starlight-pkgdirs-" });
  try {
    await Deno.mkdir(`${root}/project/src/deep`, { recursive: true });
    await Deno.writeTextFile(`${root}/project/deno.json`, "{}");
    await Deno.mkdir(`${root}/project/src/node_modules`);
    const dirs = packageDirectories(`${root}/project/src/deep`);
    assert.deepEqual(dirs, [
      `${denoDir()}/npm`,
      `${root}/project/src/node_modules`,
      // Not there yet, but a project: Deno may create it while loading the app.
      `${root}/project/node_modules`,
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("describePermissions: one line, kinds with values first, then the ones with none", () => {
  const home = Deno.env.get("HOME")!;
  assert.equal(
    describePermissions({
      net: ["0.0.0.0:5000"],
      read: ["/srv/app", `${home}/.cache/deno/npm`],
      write: false,
      env: false,
      run: false,
      sys: false,
      ffi: false,
      import: [...DEFAULT_IMPORT_HOSTS, "127.0.0.1:8000"],
    }),
    "app permissions: net=0.0.0.0:5000; read=/srv/app,~/.cache/deno/npm; " +
      "import=Deno's default hosts,127.0.0.1:8000; write,env,run,sys,ffi: none",
  );
  assert.equal(
    describePermissions({ net: true, env: ["A", "B"] }),
    "app permissions: net=all; env=A,B; read,write,run,sys,ffi,import: none",
  );
  assert.equal(describePermissions("inherit"), "app permissions: all (--allow-all: no sandbox)");
  assert.doesNotMatch(describePermissions({ read: ["/srv"] }), /\n/);
});

Deno.test("describeRequestedPermissions: what --help shows for a command line", () => {
  assert.match(
    describeRequestedPermissions({}),
    /^app permissions: net=0\.0\.0\.0:5000; read=<app dir>,.*; write,env,run,sys,ffi: none$/,
  );
  assert.match(
    describeRequestedPermissions({ port: 8080, permissions: { env: ["FOO"] }, app: "/srv/a.ts" }),
    /^app permissions: net=0\.0\.0\.0:8080; read=\/srv,.*; env=FOO; /,
  );
  assert.equal(
    describeRequestedPermissions({ permissions: { all: true } }),
    "app permissions: all (--allow-all: no sandbox)",
  );
  assert.match(describeRequestedPermissions({ workers: 0 }), /--workers 0: .*no sandbox/);
  // Options that do not fit together still show the permissions asked for.
  assert.match(
    describeRequestedPermissions({ ssl: true, permissions: { run: ["git"] } }),
    /run=git/,
  );
});

Deno.test("the check refuses what the process lacks, naming it; defaults it lacks are dropped", async () => {
  const script = `
    import { workerPermissions } from "${
    new URL("../../lib/sandbox/permissions.ts", import.meta.url).href
  }";
    const none = { net: false, read: false, write: false, env: false, run: false, sys: false,
      ffi: false, import: false, all: false };
    const tcp = [{ kind: "tcp", hostname: "127.0.0.1", port: 5000 }];
    const app = "file:///srv/site/app.ts";
    const worker = "file:///opt/starlight/lib/pool/thread_worker.ts";
    const cases = [[{}, worker], [{ env: ["FOO"] }, worker], [{ write: ["/data"] }, worker],
      [{ net: ["db:5432"] }, worker], [{ sys: true }, worker], [{}, "file:///elsewhere/thread_worker.ts"]];
    for (const [grant, module] of cases) {
      try {
        const p = workerPermissions({ ...none, ...grant }, tcp, app, module);
        console.log("OK " + JSON.stringify(p));
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--no-config",
      "--allow-read=/srv,/opt",
      "--allow-net=127.0.0.1",
      "--allow-env=FOO",
      "-",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { stdout, stderr } = await child.output();
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  assert.equal(lines.length, 6, new TextDecoder().decode(stderr));
  // A default it does not hold (the npm cache: no env access to find it, no read access to
  // it) is left out instead of refused.
  const defaults = JSON.parse(lines[0].slice(3));
  assert.deepEqual(defaults.read, ["/srv/site", "/opt/starlight/mod.ts", "/opt/starlight/lib"]);
  assert.deepEqual(defaults.net, ["127.0.0.1:5000"]);
  assert.match(lines[1], /^OK /, "env FOO is held");
  assert.match(lines[2], /^PermissionError: cannot give the app write access to "\/data"/);
  assert.match(lines[3], /^PermissionError: cannot give the app net access to "db:5432"/);
  assert.match(lines[4], /^PermissionError: cannot give the app all sys access/);
  // Deno loads the worker module with the parent's permissions.
  assert.match(
    lines[5],
    /^PermissionError: cannot start workers: this deno process needs read access to "\/elsewhere\/thread_worker.ts"/,
  );
  for (const line of lines.slice(2)) assert.match(line, /run deno with --allow-\w+/);
});
