/**
 * What a `deno serve` user types (issue 16 item 10): `--watch` and `--parallel` are accepted,
 * the short flags that mean something else in deno are named as such, `DENO_SERVE_ADDRESS` gives
 * the default address; and the options added with it: `--config`, `--log-format`.
 */

import assert from "node:assert/strict";
import { helpText } from "../../lib/options/help.ts";
import { OptionError, parseCliArgs, resolveOptions } from "../../lib/options/mod.ts";
import { applyServeAddress, parseServeAddress } from "../../lib/options/serve_address.ts";

function assertOptionError(action: () => unknown, option: string, detail: RegExp) {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof OptionError, `expected an OptionError, got ${error}`);
    assert.ok(error.message.includes(option), `"${error.message}" does not name ${option}`);
    assert.ok(!error.message.includes("\n"), `"${error.message}" is not one line`);
    assert.match(error.message, detail);
    return true;
  });
}

Deno.test("--watch is -r/--reload; it takes no paths, and says so", () => {
  assert.equal(parseCliArgs(["--watch", "app.ts"]).options.reload, true);
  assert.equal(parseCliArgs(["--watch=0", "app.ts"]).options.reload, false);
  assertOptionError(
    () => parseCliArgs(["--watch=src,lib", "app.ts"]),
    "--watch",
    /takes no paths: the app's directory is watched/,
  );
});

Deno.test("--parallel is --workers = CPUs, or DENO_JOBS as deno serve reads it", () => {
  const workers = (...argv: string[]) =>
    resolveOptions(parseCliArgs([...argv, "a.ts"]).options).workers;
  assert.equal(workers("--parallel"), navigator.hardwareConcurrency);
  const before = Deno.env.get("DENO_JOBS");
  try {
    Deno.env.set("DENO_JOBS", "3");
    assert.equal(workers("--parallel"), 3);
    Deno.env.set("DENO_JOBS", "many");
    assertOptionError(() => workers("--parallel"), "--parallel", /DENO_JOBS='many'/);
  } finally {
    if (before === undefined) Deno.env.delete("DENO_JOBS");
    else Deno.env.set("DENO_JOBS", before);
  }
  for (const argv of [["--parallel", "--workers", "2"], ["--workers=2", "--parallel"]]) {
    assertOptionError(() => workers(...argv), "--parallel", /given twice \(--workers\)/);
  }
  assertOptionError(
    () => resolveOptions({ app: "a.ts", parallel: true, workers: 2 }),
    "--parallel",
    /given twice/,
  );
  // Repeating --workers still means the last one.
  assert.equal(parseCliArgs(["--workers=2", "--max-workers=3"]).options.workers, 3);
});

Deno.test("deno's -N, -W, -P are unknown here, and the error says what to write", () => {
  assertOptionError(
    () => parseCliArgs(["-N", "a.ts"]),
    "-N",
    /in deno it is --allow-net; here write --allow-net/,
  );
  assertOptionError(() => parseCliArgs(["-W"]), "-W", /--allow-write/);
  assertOptionError(
    () => parseCliArgs(["-P"]),
    "-P",
    /--permission-set; here write the --allow-\* flags/,
  );
  // -R and -I are plackup's and deno's both: the message names each.
  assertOptionError(() => parseCliArgs(["-R", "lib"]), "-R", /deno's -R is --allow-read/);
  assertOptionError(() => parseCliArgs(["-I", "lib"]), "-I", /deno's -I is --allow-import/);
});

Deno.test("deno runtime flags after the script are named as such", () => {
  for (const flag of ["--env-file=.env", "--unstable-kv", "--no-check", "--no-prompt"]) {
    assertOptionError(
      () => parseCliArgs([flag, "a.ts"]),
      flag.split("=")[0],
      /it is a deno flag; put it before the script/,
    );
  }
  assertOptionError(
    () => parseCliArgs(["--open"]),
    "--open",
    /deno serve's; open the banner's URL/,
  );
});

Deno.test("-E and -S keep plackup's meaning (env, socket)", () => {
  assert.deepEqual(parseCliArgs(["-E", "development", "-S", "/tmp/x.sock", "a.ts"]).options, {
    env: "development",
    socket: "/tmp/x.sock",
    app: "a.ts",
  });
});

Deno.test("--help lists every clash with deno serve", () => {
  const text = helpText();
  assert.match(text, /^Coming from deno serve:$/m);
  assert.match(text, /-E is --env here, not --allow-env/);
  assert.match(text, /-S is --socket here, not --allow-sys/);
  assert.match(text, /-r is --reload \(watch\) here, not deno's cache reload/);
  assert.match(text, /-N, -W, -P, -R, -I are not Starlight's/);
  assert.match(text, /--watch is -r here/);
  assert.match(text, /--parallel is --workers = CPUs/);
  assert.match(text, /DENO_SERVE_ADDRESS/);
  assert.match(text, /--log-format FORMAT +text .* \(default: text\)/);
  assert.match(text, /-c, --config FILE +the app's deno\.json/);
});

Deno.test("--config and --log-format: resolved, and bad values refused", () => {
  const resolved = resolveOptions(
    parseCliArgs(["-c", "proj/deno.json", "--log-format=json", "a.ts"]).options,
  );
  assert.equal(resolved.config, `${Deno.cwd()}/proj/deno.json`);
  assert.equal(resolved.logFormat, "json");
  assertOptionError(
    () => parseCliArgs(["--log-format", "xml"]),
    "--log-format",
    /'xml' is not text or json/,
  );
  assertOptionError(
    () => resolveOptions({ app: "a.ts", logFormat: "yaml" as "json" }),
    "--log-format",
    /'yaml'/,
  );
});

Deno.test("DENO_SERVE_ADDRESS: parsed as deno does, vsock and nonsense refused", () => {
  assert.deepEqual(parseServeAddress("tcp:127.0.0.1:8000"), {
    listen: "127.0.0.1:8000",
    duplicate: false,
  });
  assert.deepEqual(parseServeAddress("tcp:[::1]:8000"), { listen: "[::1]:8000", duplicate: false });
  assert.deepEqual(parseServeAddress("duplicate,unix:/run/a.sock"), {
    listen: "/run/a.sock",
    duplicate: true,
  });
  for (
    const [value, why] of [
      ["vsock:3:8000", /vsock address/],
      ["tcp:localhost:8000", /is not tcp:IP:PORT/],
      ["tcp:127.0.0.1:99999", /is not tcp:IP:PORT/],
      ["unix:relative.sock", /absolute socket path/],
      ["127.0.0.1:8000", /is not tcp:HOST:PORT or unix:PATH/],
    ] as const
  ) {
    assertOptionError(() => parseServeAddress(value), "DENO_SERVE_ADDRESS", why);
  }
});

Deno.test("DENO_SERVE_ADDRESS gives the default address; the command line's wins", () => {
  const listeners = (argv: string[], value: string) =>
    resolveOptions(applyServeAddress(parseCliArgs([...argv, "a.ts"]).options, value)).listeners;
  assert.deepEqual(listeners([], "tcp:127.0.0.1:8123"), [
    { kind: "tcp", hostname: "127.0.0.1", port: 8123 },
  ]);
  assert.deepEqual(listeners(["--port", "9000"], "tcp:127.0.0.1:8123"), [
    { kind: "tcp", hostname: "0.0.0.0", port: 9000 },
  ]);
  assert.deepEqual(listeners(["--listen", "/tmp/s.sock"], "tcp:127.0.0.1:8123"), [
    { kind: "unix", path: "/tmp/s.sock" },
  ]);
  // duplicate: one listener more, next to the default or the given ones.
  assert.deepEqual(listeners([], "duplicate,tcp:127.0.0.1:8123"), [
    { kind: "tcp", hostname: "127.0.0.1", port: 8123 },
    { kind: "tcp", hostname: "0.0.0.0", port: 5000 },
  ]);
  assert.deepEqual(listeners(["--port", "9000"], "duplicate,unix:/tmp/d.sock"), [
    { kind: "unix", path: "/tmp/d.sock" },
    { kind: "tcp", hostname: "0.0.0.0", port: 9000 },
  ]);
  assert.deepEqual(listeners([], ""), [{ kind: "tcp", hostname: "0.0.0.0", port: 5000 }]);
});
