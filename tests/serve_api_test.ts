/**
 * The embedding API: `serve(options)` from mod.ts, in this process. A handler function with
 * `workers: 0`, a module path with a worker, graceful shutdown settling `finished`, restart
 * loading the app afresh, and options that mirror the command line: same names (camelCased),
 * same defaults, and bad values rejected with the CLI's own message.
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  OptionError,
  serve,
  type ServeHandlerInfo,
  type ServeOptions,
  type Server,
} from "../mod.ts";
import { OPTION_HELP, parseCliArgs, resolveOptions } from "../lib/options/mod.ts";
import { repoRoot } from "./_helpers/server.ts";
import { fetchWithin, runDeno } from "./_helpers/examples.ts";

const LOADED_APP = new URL("./fixtures/examples/loaded_app.ts", import.meta.url);

/** Where a server listens (its first TCP address). */
function baseOf(server: Server): string {
  const address = server.addresses.find((spec) => spec.kind === "tcp");
  assert.ok(address?.kind === "tcp", `no TCP address in ${JSON.stringify(server.addresses)}`);
  assert.ok(address.port > 0, "port 0 is resolved to the bound port");
  return `http://127.0.0.1:${address.port}`;
}

/** Resolves with `promise`, or rejects after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Shuts `server` down and checks that `finished` settles and the port is closed. */
async function shutDown(server: Server, base: string): Promise<void> {
  await within(server.shutdown(), 15_000, "shutdown()");
  await within(server.finished, 5_000, "finished after shutdown()");
  const port = Number(new URL(base).port);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
    "nothing listens after shutdown",
  );
}

const local: ServeOptions = { host: "127.0.0.1", port: 0, quiet: true };

Deno.test("serve(): workers 0 with a handler function", async () => {
  let finished = false;
  const server = await serve({
    ...local,
    workers: 0,
    app: (request: Request, info: ServeHandlerInfo) =>
      new Response(
        `fn ${new URL(request.url).pathname} from ${(info.remoteAddr as Deno.NetAddr).hostname}`,
      ),
  });
  server.finished.then(() => finished = true);
  const base = baseOf(server);
  assert.deepEqual(server.addresses, [{
    kind: "tcp",
    hostname: "127.0.0.1",
    port: Number(new URL(base).port),
  }]);
  const response = await fetchWithin(`${base}/x`);
  assert.equal(await response.text(), "fn /x from 127.0.0.1");
  assert.equal(response.headers.get("server")?.startsWith("Starlight/"), true);
  assert.equal(finished, false, "finished stays pending while serving");
  await shutDown(server, base);
  assert.equal(finished, true);
});

Deno.test("serve(): workers 0 with an object that has fetch(), and restart() a no-op", async () => {
  const server = await serve({
    ...local,
    workers: 0,
    app: { fetch: () => new Response("object") },
  });
  const base = baseOf(server);
  await server.restart();
  assert.equal(await (await fetchWithin(base)).text(), "object");
  await shutDown(server, base);
});

Deno.test("serve(): workers 0 with a module URL; restart() imports it afresh", async () => {
  const server = await serve({ ...local, workers: 0, app: LOADED_APP });
  const base = baseOf(server);
  const before = await (await fetchWithin(`${base}/a`)).json();
  assert.equal(before.path, "/a");
  await server.restart();
  const after = await (await fetchWithin(`${base}/b`)).json();
  assert.notEqual(after.loaded, before.loaded, "the module was imported again");
  await shutDown(server, base);
});

Deno.test("serve(): workers 1 with a module path relative to the current directory", async () => {
  const path = relative(Deno.cwd(), fileURLToPath(LOADED_APP));
  assert.ok(!path.startsWith("/"), path);
  const server = await serve({ ...local, workers: 1, app: path, gracefulTimeout: 5 });
  const base = baseOf(server);
  // A new connection for every request: a kept-alive one may still reach a retiring worker
  // for one last response after restart() has resolved.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const init = { client } as RequestInit;
  const get = async (path: string) => await (await fetchWithin(`${base}${path}`, init)).json();
  try {
    const first = await get("/one");
    assert.equal(first.path, "/one");
    assert.equal((await get("/two")).loaded, first.loaded, "one worker, one load");

    await within(server.restart(), 15_000, "restart()");
    const restarted = await get("/three");
    assert.notEqual(restarted.loaded, first.loaded, "restart() replaced the worker");
  } finally {
    client.close();
  }
  await shutDown(server, base);
});

Deno.test("serve(): a handler function with workers rejects, naming the fix", async () => {
  await assert.rejects(
    serve({ ...local, workers: 2, app: () => new Response("no") }),
    (error: Error) => {
      assert.ok(error instanceof OptionError);
      assert.equal(error.option, "--workers");
      assert.match(error.message, /use workers: 0 or give the app's module URL/);
      return true;
    },
  );
});

/** The message the CLI prints for `args` (after `starlight: `), with its exit code. */
async function cliError(args: string[]): Promise<string> {
  const result = await runDeno(["run", "-A", "--no-prompt", `${repoRoot}mod.ts`, ...args], {
    cwd: repoRoot,
    timeoutMs: 30_000,
  });
  assert.equal(
    result.code,
    2,
    `starlight ${args.join(" ")} should be a usage error:\n${result.stderr}`,
  );
  const line = result.stderr.split("\n")[0];
  assert.match(line, /^starlight: /);
  return line.slice("starlight: ".length);
}

/**
 * The CLI quotes a value as typed (`'70000'`); the API shows the value it was given (`70000`
 * for a number). Everything else in the messages must be the same.
 */
function unquoted(message: string): string {
  return message.replace(/'([^']*)'/g, "$1");
}

Deno.test("serve(): bad options reject with the CLI's message", async (t) => {
  const cases: [string[], ServeOptions][] = [
    [["--port", "70000", "app.ts"], { port: 70000, app: "app.ts" }],
    [["--workers", "1.5", "app.ts"], { workers: 1.5, app: "app.ts" }],
    [["--timeout", "0", "app.ts"], { timeout: 0, app: "app.ts" }],
    [["--listen-mode", "bogus", "app.ts"], { listenMode: "bogus" as "shared", app: "app.ts" }],
    [["--listen", ":99999", "app.ts"], { listen: [":99999"], app: "app.ts" }],
    [["--ssl", "app.ts"], { ssl: true, app: "app.ts" }],
    [
      ["--max-reqs-per-child", "5", "--min-reqs-per-child", "10", "app.ts"],
      { maxReqsPerChild: 5, minReqsPerChild: 10, app: "app.ts" },
    ],
    [[], {}],
  ];
  for (const [args, options] of cases) {
    await t.step(args.join(" ") || "(no app)", async () => {
      const expected = await cliError(args);
      await assert.rejects(serve({ ...options, quiet: true }), (error: Error) => {
        assert.ok(error instanceof OptionError, `${error.name}: ${error.message}`);
        assert.equal(unquoted(error.message), unquoted(expected));
        return true;
      });
    });
  }
});

/** `--max-reqs-per-child` → `maxReqsPerChild`. */
function camel(flag: string): string {
  return flag.replace(/^--/, "").replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
}

/** A value each kind of option accepts, by the help's placeholder. */
const SAMPLES: Record<string, string> = {
  "FILE|URL": "app.ts",
  NAME: "x",
  HOST: "127.0.0.1",
  PORT: "8080",
  ADDR: ":8080",
  PATH: "/tmp/x.sock",
  MODE: "1",
  N: "3",
  SECONDS: "2",
  SIZE: "1k",
  FILE: "/tmp/x.pem",
  USER: "nobody",
  GROUPS: "nogroup",
  MASK: "022",
  FORMAT: "json",
  ENGINE: "native",
  IPS: "10.0.0.0/8",
  KIND: "process",
};

Deno.test("serve(): every CLI option is a ServeOptions field of the same name, camelCased", () => {
  const checked: string[] = [];
  for (const option of OPTION_HELP) {
    const flag = option.flags.find((f) => f.startsWith("--"));
    if (flag === undefined || option.group === "Unsupported") continue;
    if (["--help", "--version"].includes(flag)) continue;
    let value = option.valueName === undefined ? undefined : SAMPLES[option.valueName];
    if (flag === "--listen-mode") value = "shared";
    if (option.valueOptional) value = undefined; // --allow-*: bare
    assert.ok(option.valueName === undefined || option.valueOptional || value !== undefined, flag);
    const { options } = parseCliArgs(value === undefined ? [flag] : [flag, value]);
    if (flag.startsWith("--allow-")) {
      const kind = flag === "--allow-all" ? "all" : flag.slice("--allow-".length);
      assert.equal(options.permissions?.[kind as "net"], true, `${flag} sets permissions.${kind}`);
    } else {
      assert.deepEqual(Object.keys(options), [camel(flag)], `${flag} sets ${camel(flag)}`);
    }
    checked.push(flag);
  }
  assert.ok(checked.length >= 40, `only ${checked.length} options checked`);
});

Deno.test("serve(): the defaults are the CLI's", () => {
  const fromCli = resolveOptions(parseCliArgs(["app.ts"]).options);
  const fromApi = resolveOptions({ app: "app.ts" });
  assert.deepEqual(fromApi, fromCli);
  assert.deepEqual(
    resolveOptions({ app: new URL(`file://${Deno.cwd()}/app.ts`) }).app,
    fromCli.app,
    "a URL and a path name the same module",
  );
});

Deno.test("serve(): the pid file option is honoured, not only by the CLI", async () => {
  const dir = await Deno.makeTempDir();
  const pid = `${dir}/server.pid`;
  try {
    const server = await serve({
      app: () => new Response("ok"),
      workers: 0,
      host: "127.0.0.1",
      port: 0,
      quiet: true,
      pid,
    });
    assert.equal((await Deno.readTextFile(pid)).trim(), String(Deno.pid));
    await within(server.shutdown(), 10_000, "shutdown");
    await within(server.finished, 10_000, "finished");
    await assert.rejects(Deno.stat(pid), Deno.errors.NotFound, "removed at exit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve(): daemonize is refused with one line (only the CLI can daemonize)", async () => {
  await assert.rejects(
    serve({ app: () => new Response("ok"), workers: 0, port: 0, quiet: true, daemonize: true }),
    (error: Error) =>
      error instanceof OptionError && /--daemonize: only the command line/.test(error.message),
  );
});
