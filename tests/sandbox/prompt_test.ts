/**
 * No permission prompt can ever appear, whatever the terminal. Each case runs under
 * `script -qfec …` (util-linux), which gives the command a pseudo-terminal on stdin, stdout and
 * stderr — where Deno would prompt.
 */

import assert from "node:assert/strict";
import { repoRoot } from "../_helpers/server.ts";
import {
  childrenOf,
  cmdline,
  denoProcesses,
  descendantsOf,
  makeSite,
  probe,
  runInPty,
  waitGone,
} from "../_helpers/permissions.ts";

const deno = Deno.execPath();
const fixture = (name: string) =>
  new URL(`../fixtures/permissions/${name}`, import.meta.url).pathname;
/** What Deno's prompt shows. */
const PROMPT = /Deno requests|Allow\?|\[y\/n/;

Deno.test("control: the pty harness does see Deno's prompt from a restricted worker", async () => {
  const run = runInPty([
    deno,
    "run",
    "-A",
    "--unstable-worker-options",
    fixture("prompt_control.ts"),
  ]);
  try {
    await run.waitFor(PROMPT, 20_000);
    assert.doesNotMatch(run.output(), /worker: read/);
  } finally {
    await run.kill();
  }
});

Deno.test("the CLI on a terminal, without --no-prompt: denied, no prompt", async () => {
  const site = await makeSite();
  // Started as an operator would type it: no --no-prompt, stdin and stderr a terminal.
  const run = runInPty([
    deno,
    "run",
    "-A",
    `${repoRoot}mod.ts`,
    "--port",
    "0",
    "--workers",
    "1",
    "app/app.ts",
  ], {
    cwd: site.srv,
  });
  try {
    await run.waitFor(/listening at port (\d+)/, 30_000);
    const port = Number(run.output().match(/listening at port (\d+)/)![1]);
    const started = Date.now();
    const result = await probe(port, "read", "/etc/hostname");
    assert.equal(result.error, "NotCapable", JSON.stringify(result));
    assert.ok(Date.now() - started < 5000, "answered at once, not after waiting on a prompt");
    const env = await probe(port, "env", "HOME");
    assert.equal(env.error, "NotCapable", JSON.stringify(env));
    // The server re-launched itself with --no-prompt: the process on the terminal has one deno
    // child carrying the flag.
    const [parent] = denoProcesses(descendantsOf(run.process.pid));
    const [child] = denoProcesses(childrenOf(parent));
    assert.ok(cmdline(child)?.includes("--no-prompt"), String(cmdline(child)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.doesNotMatch(run.output(), PROMPT);
    // SIGTERM to the process the operator started stops both.
    Deno.kill(parent, "SIGTERM");
    await waitGone(parent);
    await waitGone(child);
  } finally {
    await run.kill();
    await site.cleanup();
  }
});

Deno.test("STARLIGHT_RELAUNCHED set by hand on a terminal: refused, no prompt, no re-launch", async () => {
  const site = await makeSite();
  const run = runInPty([deno, "run", "-A", `${repoRoot}mod.ts`, "--port", "0", "app/app.ts"], {
    cwd: site.srv,
    env: { STARLIGHT_RELAUNCHED: "1" },
  });
  try {
    const status = await run.exited;
    assert.equal(status.code, 1, run.output());
    assert.match(
      run.output(),
      /starlight: STARLIGHT_RELAUNCHED=1 is set, but this process still lacks/,
    );
    assert.doesNotMatch(run.output(), PROMPT);
    assert.doesNotMatch(run.output(), /listening at/);
  } finally {
    await run.kill();
    await site.cleanup();
  }
});

Deno.test("serve() embedded on a terminal without --no-prompt refuses to start workers", async () => {
  const flags = ["-A", "--unstable-worker-options", "--unstable-net"];
  const refused = runInPty([deno, "run", ...flags, fixture("embed.ts")]);
  const allowed = runInPty([deno, "run", ...flags, "--no-prompt", fixture("embed.ts")]);
  try {
    await refused.waitFor(/REFUSED|SERVING/, 20_000);
    await allowed.waitFor(/REFUSED|SERVING/, 20_000);
    assert.match(refused.output(), /REFUSED PermissionError: permission prompts are possible/);
    assert.match(allowed.output(), /SERVING on \d+/);
    for (const run of [refused, allowed]) assert.doesNotMatch(run.output(), PROMPT);
  } finally {
    await refused.kill();
    await allowed.kill();
  }
});
