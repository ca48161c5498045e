/**
 * Plack::Test::Suite, the conformance suite of Starlight's Perl family: Debian's libplack-perl
 * drives its client halves with `prove` (tests/plack/run.t) against a server running their fetch
 * port (tests/plack/suite_app.ts).
 */

import assert from "node:assert/strict";
import { cases } from "./suite_cases.ts";
import { variantArgs } from "../_helpers/server.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const HOST = "127.0.0.1";
const START_MS = 20_000;
const SUITE_S = 120;
const STOP_MS = 10_000;

interface Plack {
  /** Suite.pm itself, which the "return glob" case serves. */
  suitePm: string;
  /** Plack's share dir, holding the images the filehandle cases serve. */
  shareDir: string;
}

/** Plack's paths as the installed Perl sees them, or why the suite cannot run. */
async function findPlack(): Promise<Plack | string> {
  const where = 'print "$INC{q(Plack/Test/Suite.pm)}\\n", File::ShareDir::dist_dir(q(Plack))';
  try {
    const prove = await new Deno.Command("prove", { args: ["--version"], stdout: "null" }).output();
    if (!prove.success) return "`prove --version` failed";
    const perl = await new Deno.Command("perl", {
      args: ["-MPlack::Test::Suite", "-MFile::ShareDir", "-e", where],
      stderr: "null",
    }).output();
    if (!perl.success) return "Plack::Test::Suite is not installed (Debian: libplack-perl)";
    const [suitePm, shareDir] = new TextDecoder().decode(perl.stdout).split("\n");
    return { suitePm, shareDir };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "perl or prove is not installed";
    throw error;
  }
}

/** The server under test, given no more than the app needs: the one place to switch servers. */
function serverCommand(port: number, plack: Plack): string[] {
  return [
    ...[Deno.execPath(), "run", "-A", "--no-prompt", "mod.ts", "-q", "--workers", "1"],
    ...variantArgs(),
    ...["--host", HOST, "--port", `${port}`],
    ...[
      "--allow-env=PLACK_SUITE_PM,PLACK_SHARE_DIR",
      `--allow-read=${plack.suitePm},${plack.shareDir}`,
    ],
    "tests/plack/suite_app.ts",
  ];
}

function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Resolves once `port` accepts, rejecting if the server exits or `START_MS` passes first. */
async function waitForPort(port: number, server: Deno.ChildProcess): Promise<void> {
  let exited = false;
  server.status.then(() => exited = true);
  const deadline = Date.now() + START_MS;
  while (!exited && Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: HOST, port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    exited ? "the server exited before listening" : `no listener after ${START_MS}ms`,
  );
}

async function stop(server: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), STOP_MS);
  try {
    return await server.status;
  } finally {
    clearTimeout(timer);
  }
}

const plack = await findPlack();
if (typeof plack === "string") console.log(`Skipping Plack::Test::Suite: ${plack}`);

Deno.test({
  name: "Plack::Test::Suite passes through the fetch port",
  ignore: typeof plack === "string",
  async fn() {
    if (typeof plack === "string") return;
    const port = freePort();
    const [command, ...args] = serverCommand(port, plack);
    const server = new Deno.Command(command, {
      args,
      cwd: ROOT,
      env: { PLACK_SUITE_PM: plack.suitePm, PLACK_SHARE_DIR: plack.shareDir },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Read while running so a chatty server never blocks on a full pipe; shown on failure.
    const logs = Promise.all([server.stdout, server.stderr].map((s) => new Response(s).text()));
    let tap = "";
    try {
      await waitForPort(port, server);
      // timeout(1) signals prove's whole process group, Test::TCP's forked child included.
      const prove = await new Deno.Command("timeout", {
        args: ["-k", "5", `${SUITE_S}`, "prove", "-v", "tests/plack/run.t"],
        cwd: ROOT,
        env: { STARLIGHT_PLACK_PORT: `${port}` },
        stdin: "null",
      }).output();
      const decoder = new TextDecoder();
      tap = decoder.decode(prove.stdout) + decoder.decode(prove.stderr);
      assert.equal(prove.code, 0, prove.code === 124 ? "prove timed out" : "prove failed");
      checkTap(decoder.decode(prove.stdout));
    } catch (error) {
      await stop(server);
      console.error(`--- prove ---\n${tap}\n--- server ---\n${(await logs).join("")}`);
      throw error;
    }
    const status = await stop(server);
    await logs;
    assert.ok(status.success, `the server's exit on SIGTERM: ${JSON.stringify(status)}`);
  },
});

/** Every Suite case announced in order, every assertion planned and passed; skips printed. */
function checkTap(stdout: string): void {
  const lines = stdout.split("\n");
  const notes = lines.flatMap((line) => line.match(/^# (.*)$/)?.[1] ?? []);
  assert.deepEqual(notes, Object.keys(cases), "the cases run are not the ported ones");
  const plan = Number(stdout.match(/^1\.\.(\d+)$/m)?.[1]);
  const oks = lines.filter((line) => /^ok \d+/.test(line));
  assert.ok(plan > 0, "no TAP plan");
  assert.equal(oks.length, plan, "passing assertions vs plan");
  assert.ok(!/^not ok/m.test(stdout), "a failing assertion");
  assert.match(stdout, /^Result: PASS$/m);
  for (const skip of oks.filter((line) => /# skip /i.test(line))) console.log(skip);
}
