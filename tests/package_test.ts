/**
 * The JSR package: one version everywhere (deno.json, `VERSION`, `--version`, `--help`, the
 * `Server` header), `deno publish --dry-run` clean (no slow types, no warnings, tests and
 * benchmarks left out), and documentation complete: `deno doc --lint` passes for both
 * entry points, every export of mod.ts has JSDoc with an example, and the examples type-check.
 */

import assert from "node:assert/strict";
import { VERSION } from "../mod.ts";
import { repoRoot, startServer } from "./_helpers/server.ts";
import { fetchWithin, runDeno } from "./_helpers/examples.ts";

const config = JSON.parse(await Deno.readTextFile(`${repoRoot}deno.json`));
const version: string = config.version;

/** `deno ARGS` in the repository, colours off. */
function deno(args: string[], timeoutMs = 60_000) {
  return runDeno(args, { cwd: repoRoot, timeoutMs });
}

/** Lines that report a problem, from tools that print `warning[code]` or `error[code]`. */
function problems(output: string): string[] {
  return output.split("\n").filter((line) => /^(warning|error)(\[|:)/.test(line.trim()));
}

Deno.test("package: deno.json has the package's name, version and license", () => {
  assert.equal(config.name, "@x/starlight");
  assert.match(version, /^\d+\.\d+\.\d+(-[\w.]+)?$/);
  assert.equal(config.license, "MIT");
  assert.equal(config.exports["."], "./mod.ts");
});

Deno.test("package: VERSION is deno.json's version", () => {
  assert.equal(VERSION, version);
});

Deno.test("package: --version and --help show deno.json's version", async () => {
  for (const entry of ["mod.ts", "cli.ts"]) {
    const result = await deno(["run", "-A", "--no-prompt", entry, "--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Starlight/${version} (Deno ${Deno.version.deno})\n`, entry);
  }
  const help = await deno(["run", "-A", "--no-prompt", "mod.ts", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.ok(help.stdout.includes(`Starlight for Deno ${version}:`), help.stdout.slice(0, 300));
});

Deno.test("package: the Server header shows deno.json's version", async () => {
  const server = await startServer([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--workers",
    "1",
    "examples/hello.ts",
  ]);
  try {
    assert.match(
      server.stderr(),
      new RegExp(`Starting Starlight/${version.replaceAll(".", "\\.")} `),
    );
    const response = await fetchWithin(`http://127.0.0.1:${server.port}/`);
    await response.body?.cancel();
    assert.equal(response.headers.get("server"), `Starlight/${version}`);
  } finally {
    assert.equal((await server.stop()).code, 0, server.stderr());
  }
});

Deno.test("package: deno publish --dry-run passes without a warning", async () => {
  const result = await deno(["publish", "--dry-run", "--allow-dirty"], 120_000);
  const output = result.stdout + result.stderr;
  assert.equal(result.code, 0, output);
  assert.deepEqual(problems(output), [], output);
  assert.match(output, /Success\s+Dry run complete/);

  const files = [...output.matchAll(/^\s+file:\/\/(\S+)/gm)]
    .map((match) => match[1].slice(repoRoot.length));
  for (const needed of ["mod.ts", "cli.ts", "lib/pool/thread_worker.ts", "deno.json", "LICENSE"]) {
    assert.ok(files.includes(needed), `${needed} is not published: ${files.join(" ")}`);
  }
  const excluded = files.filter((file) => /^(tests|bench|\.ci)\//.test(file));
  assert.deepEqual(excluded, [], "publish.exclude keeps tests and benchmarks out");
});

Deno.test("package: deno doc --lint passes for both entry points", async () => {
  for (const entry of ["mod.ts", "cli.ts"]) {
    const result = await deno(["doc", "--lint", entry]);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    assert.deepEqual(problems(output), [], output);
  }
});

interface DocNode {
  name: string;
  declarations: {
    kind: string;
    location: { filename: string; line: number };
    jsDoc?: { doc?: string; tags?: { kind: string }[] };
  }[];
}

Deno.test("package: every export of mod.ts has JSDoc with an example", async () => {
  const result = await deno(["doc", "--json", "mod.ts"]);
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout);
  const module = doc.nodes[`file://${repoRoot}mod.ts`];
  assert.ok(module, "deno doc --json knows mod.ts");
  const missing: string[] = [];
  for (const symbol of module.symbols as DocNode[]) {
    for (const declaration of symbol.declarations) {
      const where = `${symbol.name} (${declaration.kind}, ` +
        `${declaration.location.filename.slice(`file://${repoRoot}`.length)}:` +
        `${declaration.location.line})`;
      const jsDoc = declaration.jsDoc;
      if (!jsDoc?.doc?.trim()) missing.push(`${where}: no description`);
      if (!jsDoc?.tags?.some((tag) => tag.kind === "example")) {
        missing.push(`${where}: no @example`);
      }
    }
  }
  assert.ok(module.symbols.length >= 10, "mod.ts exports the API");
  assert.deepEqual(missing, [], `exports without full JSDoc:\n${missing.join("\n")}`);
});

Deno.test("package: the examples in the documentation type-check", async () => {
  const result = await deno(["check", "--doc", "mod.ts", "cli.ts", "lib/"], 120_000);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});
