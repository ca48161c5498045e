import assert from "node:assert/strict";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { helpText, usageLine } from "../../lib/options/help.ts";
import { formatListenSpec, parseListenSpec } from "../../lib/listen/spec.ts";
import {
  DEFAULT_LISTEN_MODE,
  OPTION_HELP,
  OptionError,
  parseCliArgs,
  type ResolvedOptions,
  resolveOptions,
  type ServeOptions,
} from "../../lib/options/mod.ts";
import { VERSION } from "../../lib/version.ts";

const MIB = 1024 * 1024;

/** Asserts `action` throws a one-line OptionError that names `option` (and matches `detail`). */
function assertOptionError(action: () => unknown, option: string, detail?: RegExp) {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof OptionError, `expected an OptionError, got ${error}`);
    assert.ok(error.message.includes(option), `"${error.message}" does not name ${option}`);
    assert.ok(!error.message.includes("\n"), `"${error.message}" is not one line`);
    if (detail) assert.match(error.message, detail);
    return true;
  });
}

/** The command line as the CLI would use it: parse, then resolve. */
function cli(...argv: string[]): ResolvedOptions {
  return resolveOptions(parseCliArgs(argv).options);
}

function api(options: ServeOptions): ResolvedOptions {
  return resolveOptions({ app: "app.ts", ...options });
}

Deno.test("defaults apply when only the app is given", () => {
  const options = cli("app.ts");
  assert.deepEqual(options, {
    app: pathToFileURL(resolve(Deno.cwd(), "app.ts")).href,
    listeners: [{ kind: "tcp", hostname: "0.0.0.0", port: 5000 }],
    host: "0.0.0.0",
    port: 5000,
    workers: navigator.hardwareConcurrency,
    listenMode: "shared",
    engine: "ts",
    isolation: "thread",
    proxyProtocol: false,
    forwardedAllowIps: undefined,
    healthPath: undefined,
    metricsListen: undefined,
    compress: false,
    shutdownDelay: 0,
    timeout: 300,
    headerTimeout: 30,
    keepaliveTimeout: 5,
    maxKeepaliveReqs: 1000,
    maxRequestBody: 64 * MIB,
    maxWsMessage: 64 * MIB,
    maxReqsPerChild: Infinity,
    minReqsPerChild: undefined,
    spawnInterval: 0,
    workerTimeout: 30,
    maxWorkerMemory: Infinity,
    mainProcessDelay: 0.1,
    gracefulTimeout: 30,
    reload: false,
    serverSoftware: `Starlight/${VERSION}`,
    env: "production",
    quiet: false,
    logFormat: "text",
    config: undefined,
    errorLog: undefined,
    accessLog: undefined,
    ssl: false,
    sslKeyFile: undefined,
    sslCertFile: undefined,
    sslCaFile: undefined,
    sslClientCaFile: undefined,
    sslVerifyMode: 0,
    user: undefined,
    group: undefined,
    umask: undefined,
    daemonize: false,
    pid: undefined,
    permissions: {
      net: false,
      read: false,
      write: false,
      env: false,
      run: false,
      sys: false,
      ffi: false,
      import: false,
      all: false,
    },
  });
  assert.equal(DEFAULT_LISTEN_MODE, "shared");
});

Deno.test("the CLI and the API resolve the same options alike", () => {
  assert.deepEqual(
    cli("--port=8080", "--workers=3", "--max-request-body=1m", "app.ts"),
    api({ port: 8080, workers: 3, maxRequestBody: MIB }),
  );
});

Deno.test("app: a relative path becomes an absolute file: URL", () => {
  assert.equal(cli("examples/hello.ts").app, pathToFileURL(resolve("examples/hello.ts")).href);
  assert.equal(cli("/srv/app.ts").app, "file:///srv/app.ts");
});

Deno.test("app: URLs are kept as given", () => {
  for (const url of ["http://x.test/a.ts", "https://x.test/a.ts", "file:///a.ts", "jsr:@a/b"]) {
    assert.equal(cli(url).app, url);
  }
  assert.equal(cli("npm:hono-app").app, "npm:hono-app");
  assert.equal(api({ app: new URL("https://x.test/a.ts") }).app, "https://x.test/a.ts");
});

Deno.test("app: -a and --app are the positional app", () => {
  assert.equal(parseCliArgs(["-a", "x.ts"]).options.app, "x.ts");
  assert.equal(parseCliArgs(["--app=x.ts"]).options.app, "x.ts");
});

Deno.test("app: missing is an error, unless help or version is asked for", () => {
  assertOptionError(() => cli("--port=80"), "app", /^no app given: starlight \[options\] app\.ts$/);
  assertOptionError(() => api({ app: "" }), "app", /no app given/);
  assert.deepEqual(parseCliArgs(["--help"]), { options: {}, help: true, version: false });
  assert.deepEqual(parseCliArgs(["-h"]), { options: {}, help: true, version: false });
  assert.deepEqual(parseCliArgs(["--version"]), { options: {}, help: false, version: true });
  assert.deepEqual(parseCliArgs(["-v"]), { options: {}, help: false, version: true });
});

Deno.test("app: two apps are an error", () => {
  assertOptionError(() => parseCliArgs(["a.ts", "b.ts"]), "--app", /two apps/);
  assertOptionError(() => parseCliArgs(["--app", "a.ts", "b.ts"]), "--app", /'a\.ts' and 'b\.ts'/);
});

Deno.test("app: a function or object is allowed only with workers: 0", () => {
  const handler = () => new Response("hi");
  assertOptionError(() => api({ app: handler }), "--workers", /workers: 0/);
  assertOptionError(() => api({ app: handler, workers: 2 }), "--workers");
  assert.equal(api({ app: handler, workers: 0 }).app, handler);
  const object = { fetch: handler };
  assert.equal(api({ app: object, workers: 0 }).app, object);
  assertOptionError(() => api({ app: {} as unknown as string, workers: 0 }), "--app");
});

Deno.test("aliases set the same option as their canonical flag", () => {
  const pairs: [string[], string[]][] = [
    [["--max-workers=3"], ["--workers=3"]],
    [["--max-requests=10"], ["--max-reqs-per-child=10"]],
    [["-o", "127.0.0.1"], ["--host", "127.0.0.1"]],
    [["-p", "81"], ["--port", "81"]],
    [["-l", ":82"], ["--listen", ":82"]],
    [["-S", "/tmp/s.sock"], ["--socket", "/tmp/s.sock"]],
    [["-q"], ["--quiet"]],
    [["-E", "development"], ["--env", "development"]],
    [["-D"], ["--daemonize"]],
    [["-r"], ["--reload"]],
    [["-A"], ["--allow-all"]],
  ];
  for (const [alias, canonical] of pairs) {
    assert.deepEqual(parseCliArgs(alias), parseCliArgs(canonical), alias.join(" "));
  }
  assert.equal(parseCliArgs(["--max-workers=3"]).options.workers, 3);
  assert.equal(parseCliArgs(["--max-requests=10"]).options.maxReqsPerChild, 10);
});

Deno.test("booleans: bare, =1, =true turn on; =0, =false turn off", () => {
  for (const flag of ["--quiet", "--ipv6", "--ssl", "--daemonize", "--reload"]) {
    const field = flag === "--quiet" ? "quiet" : flag.slice(2);
    const read = (arg: string) => (parseCliArgs([arg]).options as Record<string, unknown>)[field];
    assert.equal(read(flag), true, flag);
    assert.equal(read(`${flag}=1`), true, flag);
    assert.equal(read(`${flag}=true`), true, flag);
    assert.equal(read(`${flag}=0`), false, flag);
    assert.equal(read(`${flag}=false`), false, flag);
  }
  assert.equal(parseCliArgs(["--help=0"]).help, false);
});

Deno.test("booleans: any other value is an error naming the flag", () => {
  assertOptionError(() => parseCliArgs(["--quiet=yes"]), "--quiet", /'yes'/);
  assertOptionError(() => parseCliArgs(["--ipv6=2"]), "--ipv6");
  assertOptionError(() => parseCliArgs(["--ssl="]), "--ssl");
  assertOptionError(() => api({ quiet: "yes" as unknown as boolean }), "--quiet");
});

Deno.test("booleans: a bare flag does not take the next argument", () => {
  assert.deepEqual(parseCliArgs(["--quiet", "app.ts"]).options, { quiet: true, app: "app.ts" });
  assert.deepEqual(parseCliArgs(["-qD", "app.ts"]).options, {
    quiet: true,
    daemonize: true,
    app: "app.ts",
  });
});

Deno.test("values: separate, attached with =, or stuck to a short flag", () => {
  for (
    const argv of [["--port", "8080"], ["--port=8080"], ["-p8080"], ["-p", "8080"], ["-p=8080"]]
  ) {
    assert.equal(parseCliArgs(argv).options.port, 8080, argv.join(" "));
  }
});

Deno.test("values: a missing value is an error, even when another flag follows", () => {
  assertOptionError(() => parseCliArgs(["--port"]), "--port", /^--port needs a value$/);
  assertOptionError(() => parseCliArgs(["--port="]), "--port", /needs a value/);
  assertOptionError(() => parseCliArgs(["--port", "--quiet"]), "--port", /needs a value/);
  assertOptionError(() => parseCliArgs(["-p", "-q"]), "-p", /needs a value/);
  assertOptionError(() => parseCliArgs(["--listen"]), "--listen", /needs a value/);
});

Deno.test("unknown options are an error and do not swallow the app", () => {
  assertOptionError(() => parseCliArgs(["--foo"]), "--foo", /^unknown option --foo$/);
  assertOptionError(() => parseCliArgs(["--bogus", "app.psgi"]), "--bogus", /unknown option/);
  assertOptionError(() => parseCliArgs(["--bogus=1", "app.ts"]), "--bogus", /unknown option/);
  assertOptionError(() => parseCliArgs(["-x"]), "-x", /unknown option/);
  assertOptionError(() => parseCliArgs(["-qx"]), "-x", /unknown option/);
});

Deno.test("plackup options with no meaning here are refused as unsupported", () => {
  for (const argv of [["-I", "lib"], ["-M", "Foo"], ["-s", "X"], ["--server=X"], ["-L", "X"]]) {
    assertOptionError(
      () => parseCliArgs(argv),
      argv[0].split("=")[0],
      /not supported by Starlight for Deno/,
    );
  }
  assertOptionError(() => parseCliArgs(["--loader", "Shotgun"]), "--loader", /not supported/);
});

Deno.test("-- ends the options", () => {
  assert.deepEqual(parseCliArgs(["--quiet", "--", "--app.ts"]).options, {
    quiet: true,
    app: "--app.ts",
  });
});

Deno.test("last one wins for repeated single-value options", () => {
  assert.equal(parseCliArgs(["--port=1", "--port=2"]).options.port, 2);
});

Deno.test("--port: must be a whole number 0-65535", () => {
  assert.equal(cli("--port=0", "a.ts").port, 0);
  assert.equal(cli("--port=65535", "a.ts").port, 65535);
  for (const bad of ["abc", "65536", "1.5", "-1", "8080x", "0x50"]) {
    assertOptionError(
      () => parseCliArgs([`--port=${bad}`]),
      "--port",
      /not a port number \(0-65535\)/,
    );
  }
  assertOptionError(() => api({ port: 70000 }), "--port", /^--port: 70000 is not a port number/);
  assertOptionError(() => api({ port: "80" as unknown as number }), "--port", /'80'/);
});

Deno.test("--workers: a whole number, 0 or more", () => {
  assert.equal(cli("--workers=0", "a.ts").workers, 0);
  for (const bad of ["-1", "1.5", "many"]) {
    assertOptionError(() => parseCliArgs([`--workers=${bad}`]), "--workers");
  }
  assertOptionError(() => api({ workers: -1 }), "--workers");
  assertOptionError(() => parseCliArgs(["--max-workers=x"]), "--max-workers");
});

Deno.test("--listen-mode: reuseport or shared", () => {
  assert.equal(cli("--listen-mode=reuseport", "a.ts").listenMode, "reuseport");
  assert.equal(cli("--listen-mode", "shared", "a.ts").listenMode, "shared");
  assertOptionError(() => parseCliArgs(["--listen-mode=fast"]), "--listen-mode", /'fast'/);
  assertOptionError(
    () => api({ listenMode: "fast" as unknown as "shared" }),
    "--listen-mode",
  );
});

Deno.test("times: seconds, fractional allowed, never negative", () => {
  const options = cli(
    "--timeout=1.5",
    "--header-timeout=.5",
    "--keepalive-timeout=0",
    "--spawn-interval=2",
    "--main-process-delay=0.25",
    "--graceful-timeout=0",
    "a.ts",
  );
  assert.equal(options.timeout, 1.5);
  assert.equal(options.headerTimeout, 0.5);
  assert.equal(options.keepaliveTimeout, 0);
  assert.equal(options.spawnInterval, 2);
  assert.equal(options.mainProcessDelay, 0.25);
  assert.equal(options.gracefulTimeout, 0);
  for (
    const flag of ["--timeout", "--keepalive-timeout", "--spawn-interval", "--graceful-timeout"]
  ) {
    assertOptionError(() => parseCliArgs([`${flag}=-1`]), flag, /seconds/);
    assertOptionError(() => parseCliArgs([`${flag}=soon`]), flag, /seconds/);
  }
  assertOptionError(() => api({ keepaliveTimeout: -1 }), "--keepalive-timeout");
  assertOptionError(() => api({ gracefulTimeout: NaN }), "--graceful-timeout");
});

Deno.test("times: a zero timeout or header timeout is refused", () => {
  assertOptionError(() => parseCliArgs(["--timeout=0"]), "--timeout", /above 0/);
  assertOptionError(() => api({ headerTimeout: 0 }), "--header-timeout", /above 0/);
});

Deno.test("sizes: bytes with k, m, g suffixes in either case", () => {
  const sizes: [string, number][] = [
    ["100", 100],
    ["4k", 4096],
    ["4K", 4096],
    ["2m", 2 * MIB],
    ["2M", 2 * MIB],
    ["1g", 1024 * MIB],
    ["1G", 1024 * MIB],
    ["1.5k", 1536],
  ];
  for (const [text, bytes] of sizes) {
    assert.equal(cli(`--max-request-body=${text}`, "a.ts").maxRequestBody, bytes, text);
    assert.equal(cli(`--max-ws-message=${text}`, "a.ts").maxWsMessage, bytes, text);
  }
  for (const bad of ["10x", "k", "-1", "0.3k", "1.5", "1kb"]) {
    assertOptionError(() => parseCliArgs([`--max-request-body=${bad}`]), "--max-request-body");
  }
  assertOptionError(() => api({ maxWsMessage: 1.5 }), "--max-ws-message");
});

Deno.test("limits: 0 means no limit", () => {
  const options = cli(
    "--max-request-body=0",
    "--max-ws-message=0",
    "--max-keepalive-reqs=0",
    "a.ts",
  );
  assert.equal(options.maxRequestBody, Infinity);
  assert.equal(options.maxWsMessage, Infinity);
  assert.equal(options.maxKeepaliveReqs, Infinity);
  assert.equal(cli("--max-keepalive-reqs=1", "a.ts").maxKeepaliveReqs, 1);
  assertOptionError(() => parseCliArgs(["--max-keepalive-reqs=-1"]), "--max-keepalive-reqs");
});

Deno.test("--max-reqs-per-child: inf and 0 mean never", () => {
  assert.equal(cli("--max-reqs-per-child=inf", "a.ts").maxReqsPerChild, Infinity);
  assert.equal(cli("--max-reqs-per-child=0", "a.ts").maxReqsPerChild, Infinity);
  assert.equal(cli("--max-requests=500", "a.ts").maxReqsPerChild, 500);
  assert.equal(api({ maxReqsPerChild: Infinity }).maxReqsPerChild, Infinity);
  assertOptionError(() => parseCliArgs(["--max-reqs-per-child=lots"]), "--max-reqs-per-child");
  assertOptionError(() => api({ maxReqsPerChild: 2.5 }), "--max-reqs-per-child");
});

Deno.test("--min-reqs-per-child: kept within a finite maximum", () => {
  const options = cli("--max-reqs-per-child=100", "--min-reqs-per-child=50", "a.ts");
  assert.equal(options.minReqsPerChild, 50);
  assert.equal(options.maxReqsPerChild, 100);
  assert.equal(cli("--max-requests=50", "--min-reqs-per-child=50", "a.ts").minReqsPerChild, 50);
});

Deno.test("--min-reqs-per-child: above a finite maximum is an error", () => {
  assertOptionError(
    () => cli("--max-reqs-per-child=10", "--min-reqs-per-child=20", "a.ts"),
    "--min-reqs-per-child",
    /above --max-reqs-per-child 10/,
  );
});

Deno.test("--min-reqs-per-child: ignored when the maximum is infinite", () => {
  assert.equal(cli("--min-reqs-per-child=20", "a.ts").minReqsPerChild, undefined);
  assert.equal(
    cli("--max-requests=inf", "--min-reqs-per-child=20", "a.ts").minReqsPerChild,
    undefined,
  );
});

Deno.test("--min-reqs-per-child: must be 1 or more", () => {
  assertOptionError(() => parseCliArgs(["--min-reqs-per-child=0"]), "--min-reqs-per-child");
  assertOptionError(() => api({ minReqsPerChild: -3 }), "--min-reqs-per-child");
});

Deno.test("parseListenSpec: TCP addresses", () => {
  assert.deepEqual(parseListenSpec("127.0.0.1:8080"), {
    kind: "tcp",
    hostname: "127.0.0.1",
    port: 8080,
  });
  assert.deepEqual(parseListenSpec("localhost:0"), { kind: "tcp", hostname: "localhost", port: 0 });
  assert.deepEqual(parseListenSpec(":8080"), { kind: "tcp", hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseListenSpec(":8080", { defaultHost: "::" }), {
    kind: "tcp",
    hostname: "::",
    port: 8080,
  });
});

Deno.test("parseListenSpec: IPv6 addresses in brackets", () => {
  assert.deepEqual(parseListenSpec("[::1]:8080"), { kind: "tcp", hostname: "::1", port: 8080 });
  assert.deepEqual(parseListenSpec("[::]:80"), { kind: "tcp", hostname: "::", port: 80 });
});

Deno.test("parseListenSpec: UNIX socket paths, made absolute", () => {
  assert.deepEqual(parseListenSpec("/tmp/app.sock"), { kind: "unix", path: "/tmp/app.sock" });
  assert.deepEqual(parseListenSpec("run/app"), { kind: "unix", path: resolve("run/app") });
  assert.deepEqual(parseListenSpec("app.sock"), { kind: "unix", path: resolve("app.sock") });
});

Deno.test("parseListenSpec: abstract sockets from a leading @", () => {
  assert.deepEqual(parseListenSpec("@starlight"), { kind: "abstract", name: "starlight" });
});

Deno.test("parseListenSpec: malformed values are OptionErrors naming --listen", () => {
  for (const bad of ["8080", "localhost", "::1:8080", "[::1]8080", "[::1:8080", "[]:80", "@"]) {
    assertOptionError(() => parseListenSpec(bad), "--listen");
  }
  for (const bad of ["host:", "host:http", "host:65536", ":-1"]) {
    assertOptionError(() => parseListenSpec(bad), "--listen", /not a port number/);
  }
  assertOptionError(() => parseListenSpec("::1:80"), "--listen", /brackets/);
});

Deno.test("formatListenSpec: writes what parseListenSpec reads", () => {
  for (const text of ["127.0.0.1:80", "[::1]:8080", "/tmp/a.sock", "@name"]) {
    assert.equal(formatListenSpec(parseListenSpec(text)), text);
  }
});

Deno.test("listeners: --host and --port make the only listener by default", () => {
  assert.deepEqual(cli("--host=127.0.0.1", "--port=81", "a.ts").listeners, [
    { kind: "tcp", hostname: "127.0.0.1", port: 81 },
  ]);
  assert.deepEqual(cli("--host=[::1]", "a.ts").listeners, [
    { kind: "tcp", hostname: "::1", port: 5000 },
  ]);
});

Deno.test("listeners: --ipv6 makes :: the default host", () => {
  const options = cli("--ipv6", "--listen=:81", "a.ts");
  assert.equal(options.host, "::");
  assert.deepEqual(options.listeners, [{ kind: "tcp", hostname: "::", port: 81 }]);
});

Deno.test("listeners: --listen replaces the default listener and repeats", () => {
  assert.deepEqual(cli("--listen=:81", "-l", "[::1]:82", "-l", "@a", "a.ts").listeners, [
    { kind: "tcp", hostname: "0.0.0.0", port: 81 },
    { kind: "tcp", hostname: "::1", port: 82 },
    { kind: "abstract", name: "a" },
  ]);
});

Deno.test("listeners: --host or --port next to --listen adds one more", () => {
  assert.deepEqual(cli("--listen=:81", "--port=82", "a.ts").listeners, [
    { kind: "tcp", hostname: "0.0.0.0", port: 81 },
    { kind: "tcp", hostname: "0.0.0.0", port: 82 },
  ]);
  assert.deepEqual(cli("--listen=:81", "--host=127.0.0.1", "a.ts").listeners, [
    { kind: "tcp", hostname: "0.0.0.0", port: 81 },
    { kind: "tcp", hostname: "127.0.0.1", port: 5000 },
  ]);
});

Deno.test("listeners: --socket adds a UNIX or abstract socket", () => {
  assert.deepEqual(cli("--socket=s", "a.ts").listeners, [{ kind: "unix", path: resolve("s") }]);
  assert.deepEqual(cli("--socket=@s", "--port=81", "a.ts").listeners, [
    { kind: "abstract", name: "s" },
    { kind: "tcp", hostname: "0.0.0.0", port: 81 },
  ]);
  assertOptionError(() => cli("--socket=@", "a.ts"), "--socket");
});

Deno.test("listeners: duplicates are an error", () => {
  assertOptionError(() => cli("--listen=:5000", "--port=5000", "a.ts"), "--listen", /twice/);
  assertOptionError(() => cli("-l", "/tmp/a.sock", "-S", "/tmp/a.sock", "a.ts"), "--listen");
  assertOptionError(() => api({ listen: ["[::1]:80", "[::1]:80"] }), "--listen", /\[::1\]:80/);
});

Deno.test("listeners: a bad --listen is an OptionError naming --listen", () => {
  assertOptionError(() => cli("--listen=nowhere", "a.ts"), "--listen");
  assertOptionError(() => api({ listen: "x:1" as unknown as string[] }), "--listen");
});

Deno.test("TLS: --ssl needs a key and a certificate", () => {
  assertOptionError(() => cli("--ssl", "a.ts"), "--ssl", /--ssl-key-file and --ssl-cert-file/);
  assertOptionError(() => cli("--ssl", "--ssl-key-file=k.pem", "a.ts"), "--ssl");
  const options = cli("--ssl=1", "--ssl-key-file=k.pem", "--ssl-cert-file=/etc/c.pem", "a.ts");
  assert.equal(options.ssl, true);
  assert.equal(options.sslKeyFile, resolve("k.pem"));
  assert.equal(options.sslCertFile, "/etc/c.pem");
});

Deno.test("TLS: a key or certificate without --ssl is an error", () => {
  assertOptionError(() => cli("--ssl-key-file=k.pem", "a.ts"), "--ssl-key-file", /without --ssl/);
  assertOptionError(() => cli("--ssl-cert-file=c.pem", "a.ts"), "--ssl-cert-file");
});

Deno.test("TLS: --ssl-verify-mode is 0-7", () => {
  assert.equal(cli("--ssl-verify-mode=3", "a.ts").sslVerifyMode, 3);
  assertOptionError(() => parseCliArgs(["--ssl-verify-mode=8"]), "--ssl-verify-mode");
  assertOptionError(() => parseCliArgs(["--ssl-verify-mode=peer"]), "--ssl-verify-mode");
});

Deno.test("process: user, group, umask, daemonize and files", () => {
  const options = cli(
    "--user=www",
    "--group=www,adm",
    "--umask=022",
    "-D",
    "--pid=run/s.pid",
    "--error-log=/var/log/e.log",
    "--access-log=a.log",
    "a.ts",
  );
  assert.equal(options.user, "www");
  assert.equal(options.group, "www,adm");
  assert.equal(options.umask, 0o022);
  assert.equal(options.daemonize, true);
  assert.equal(options.pid, resolve("run/s.pid"));
  assert.equal(options.errorLog, "/var/log/e.log");
  assert.equal(options.accessLog, resolve("a.log"));
});

Deno.test("process: --umask is octal", () => {
  assert.equal(cli("--umask=002", "a.ts").umask, 2);
  assert.equal(cli("--umask=77", "a.ts").umask, 0o77);
  for (const bad of ["9", "0x12", "abc", "12345"]) {
    assertOptionError(() => parseCliArgs([`--umask=${bad}`]), "--umask", /octal/);
  }
  assertOptionError(() => api({ umask: 0o1000 }), "--umask");
});

Deno.test("env, server software and quiet", () => {
  const options = cli("-E", "development", "--server-software=Test/1", "-q", "a.ts");
  assert.equal(options.env, "development");
  assert.equal(options.serverSoftware, "Test/1");
  assert.equal(options.quiet, true);
  assertOptionError(() => api({ env: "" }), "--env");
});

Deno.test("permissions: a bare allow flag allows all of its kind", () => {
  const { permissions } = cli("--allow-net", "--allow-env", "--allow-sys", "a.ts");
  assert.equal(permissions.net, true);
  assert.equal(permissions.env, true);
  assert.equal(permissions.sys, true);
  assert.equal(permissions.read, false);
  assert.equal(permissions.all, false);
});

Deno.test("permissions: a bare allow flag does not take the app path", () => {
  const { options } = parseCliArgs(["--allow-net", "app.ts"]);
  assert.equal(options.app, "app.ts");
  assert.deepEqual(options.permissions, { net: true });
  assert.equal(parseCliArgs(["--allow-read", "--allow-write", "app.ts"]).options.app, "app.ts");
});

Deno.test("permissions: =list allows only those, and repeated flags add up", () => {
  const { permissions } = cli(
    "--allow-net=example.com,api.test:443",
    "--allow-net=db:5432",
    "--allow-env=HOME",
    "--allow-import=deno.land",
    "a.ts",
  );
  assert.deepEqual(permissions.net, ["example.com", "api.test:443", "db:5432"]);
  assert.deepEqual(permissions.env, ["HOME"]);
  assert.deepEqual(permissions.import, ["deno.land"]);
});

Deno.test("permissions: bare and valued together allow all", () => {
  assert.equal(cli("--allow-net=a", "--allow-net", "a.ts").permissions.net, true);
  assert.equal(cli("--allow-net", "--allow-net=a", "a.ts").permissions.net, true);
});

Deno.test("permissions: relative read, write and ffi paths become absolute", () => {
  const { permissions } = cli(
    "--allow-read=data,/etc/hosts",
    "--allow-write=.",
    "--allow-ffi=lib/x.so",
    "--allow-run=git",
    "a.ts",
  );
  assert.deepEqual(permissions.read, [resolve("data"), "/etc/hosts"]);
  assert.deepEqual(permissions.write, [Deno.cwd()]);
  assert.deepEqual(permissions.ffi, [resolve("lib/x.so")]);
  assert.deepEqual(permissions.run, ["git"]);
});

Deno.test("permissions: -A and --allow-all turn the sandbox off", () => {
  assert.equal(cli("-A", "a.ts").permissions.all, true);
  assert.equal(cli("--allow-all", "a.ts").permissions.all, true);
  assert.equal(cli("--allow-all=0", "a.ts").permissions.all, false);
});

Deno.test("permissions: bad values are errors naming the flag", () => {
  assertOptionError(() => parseCliArgs(["--allow-net="]), "--allow-net", /empty entry/);
  assertOptionError(() => parseCliArgs(["--allow-read=a,,b"]), "--allow-read", /empty entry/);
  assertOptionError(() => api({ permissions: { net: "x" as unknown as string[] } }), "--allow-net");
  assertOptionError(
    () => api({ permissions: { network: true } as unknown as Record<string, boolean> }),
    "permissions",
    /'network'/,
  );
});

Deno.test("help: usage line", () => {
  assert.equal(usageLine, "Usage: starlight [options] app.ts");
  assert.ok(helpText().startsWith(`${usageLine}\n`));
});

Deno.test("help: every option, grouped, with defaults and the sandbox note", () => {
  const text = helpText();
  for (
    const group of [
      "Listening",
      "Workers",
      "Timeouts and limits",
      "TLS",
      "Process",
      "Logging",
      "Permissions",
    ]
  ) {
    assert.match(text, new RegExp(`^${group}:$`, "m"));
  }
  for (const option of OPTION_HELP) {
    for (const flag of option.flags) assert.ok(text.includes(flag), flag);
  }
  assert.match(text, /--port PORT +TCP port to listen on \(default: 5000\)/);
  assert.match(text, /--max-request-body SIZE .*\(default: 64m\)/);
  assert.match(text, /--max-reqs-per-child, --max-requests N .*\(default: inf\)/);
  assert.match(text, /--listen-mode MODE .*\(default: shared\)/);
  assert.match(text, /--allow-net\[=HOSTS\]/);
  assert.ok(
    text.includes("By default the app may only listen on its own addresses and read its own"),
  );
});
