/**
 * The app's own deno.json applies to its workers (issue 16 item 1): a project whose deno.json
 * maps `hono` (as `deno add npm:hono` leaves it) is served from inside its directory and from
 * another one, with Starlight loaded from a local path and from a URL; an app using `Deno.openKv`
 * with `"unstable": ["kv"]`; a `"nodeModulesDir": "manual"` project; the `deno install` recipe;
 * and examples/hono-project. Where deno already runs with the app's config and flags, nothing
 * is re-launched.
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { fetchWithin, runDeno } from "../_helpers/examples.ts";
import { staticServer } from "../_helpers/static_server.ts";
import { childrenOf, cmdline, denoProcesses } from "../_helpers/permissions.ts";

const HONO_APP = `import { Hono } from "hono";
const app = new Hono();
app.get("*", (c) => c.text("hono project: " + c.req.path));
export default app;
`;

/** JSX that compiles only with the project's compilerOptions (hono/jsx as the JSX runtime). */
const PAGE_APP = `import { Hono } from "hono";
const app = new Hono();
app.get("*", (c) => c.html(<p>rendered by hono/jsx at {c.req.path}</p>));
export default app;
`;

const KV_APP = `const kv = await Deno.openKv(":memory:");
export default {
  async fetch(request: Request): Promise<Response> {
    const key = ["hits", new URL(request.url).pathname];
    const hits = ((await kv.get<number>(key)).value ?? 0) + 1;
    await kv.set(key, hits);
    return new Response("kv hits " + hits);
  },
};
`;

interface Project {
  root: string;
  cleanup(): Promise<void>;
}

/** A temporary tree: proj/ (deno.json mapping hono), kv/ (unstable kv), other/ (nothing). */
async function makeProjects(): Promise<Project> {
  const root = await Deno.makeTempDir({ prefix: "starlight-project-" });
  await Deno.mkdir(`${root}/proj/src`, { recursive: true });
  await Deno.mkdir(`${root}/kv`);
  await Deno.mkdir(`${root}/other`);
  await Deno.writeTextFile(
    `${root}/proj/deno.json`,
    JSON.stringify({
      imports: { hono: "npm:hono@4.13.19" },
      compilerOptions: { jsx: "precompile", jsxImportSource: "hono/jsx" },
    }),
  );
  await Deno.writeTextFile(`${root}/proj/src/app.ts`, HONO_APP);
  await Deno.writeTextFile(`${root}/proj/src/page.tsx`, PAGE_APP);
  await Deno.writeTextFile(`${root}/kv/deno.json`, JSON.stringify({ unstable: ["kv"] }));
  await Deno.writeTextFile(`${root}/kv/app.ts`, KV_APP);
  return { root, cleanup: () => Deno.remove(root, { recursive: true }) };
}

const BASE = ["--host", "127.0.0.1", "--port", "0", "--workers", "1"];

/** The re-launched child of `server`, if any, and its command line. */
function relaunchedChild(server: RunningServer): string[] | undefined {
  const children = denoProcesses(childrenOf(server.process.pid));
  assert.ok(children.length <= 1, `more than one deno child: ${children}`);
  return children.length === 0 ? undefined : cmdline(children[0]);
}

async function get(server: RunningServer, path: string): Promise<string> {
  const response = await fetchWithin(`http://127.0.0.1:${server.port}${path}`);
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}\n${server.stderr()}`);
  return text;
}

async function stopped(server: RunningServer): Promise<void> {
  const status = await server.stop();
  assert.equal(status.code, 0, server.stderr());
}

for (const from of ["a local path", "a URL"] as const) {
  Deno.test(`Starlight from ${from}: a project's deno.json maps hono, from inside it and from elsewhere`, async () => {
    const project = await makeProjects();
    const files = from === "a URL" ? staticServer(repoRoot) : undefined;
    const entry = files === undefined ? `${repoRoot}mod.ts` : `${files.url}/mod.ts`;
    try {
      // From elsewhere, a .tsx app that compiles only with the project's compilerOptions.
      for (
        const [cwd, app, expected] of [
          [`${project.root}/proj`, "src/app.ts", "hono project: /x"],
          [`${project.root}/other`, "../proj/src/page.tsx", "<p>rendered by hono/jsx at /x</p>"],
        ]
      ) {
        const server = await startServer([...BASE, app], {
          cwd,
          entry,
          denoFlags: ["-A", "--no-lock"],
          timeoutMs: 60_000,
        });
        try {
          assert.equal(await get(server, "/x"), expected);
          const child = relaunchedChild(server);
          assert.ok(child !== undefined, "re-launched with the app's config");
          const at = child.indexOf("--config");
          assert.equal(child[at + 1], `${project.root}/proj/deno.json`, child.join(" "));
        } finally {
          await stopped(server);
        }
      }
      if (files !== undefined) {
        assert.ok(files.requests.includes("/lib/pool/thread_worker.ts"), "workers from the URL");
      }
    } finally {
      await files?.close();
      await project.cleanup();
    }
  });

  Deno.test(`Starlight from ${from}: Deno.openKv with "unstable": ["kv"] in the app's deno.json`, async () => {
    const project = await makeProjects();
    const files = from === "a URL" ? staticServer(repoRoot) : undefined;
    try {
      const server = await startServer([...BASE, "--workers", "2", "../kv/app.ts"], {
        cwd: `${project.root}/other`,
        entry: files === undefined ? `${repoRoot}mod.ts` : `${files.url}/mod.ts`,
        denoFlags: ["-A", "--no-lock"],
        timeoutMs: 60_000,
      });
      try {
        assert.match(await get(server, "/a"), /^kv hits \d+$/);
        assert.doesNotMatch(server.stderr(), /WARN|ERROR/);
      } finally {
        await stopped(server);
      }
    } finally {
      await files?.close();
      await project.cleanup();
    }
  });
}

Deno.test("deno already running with the app's config and flags: no re-launch", async () => {
  const project = await makeProjects();
  try {
    const server = await startServer([...BASE, "src/app.ts"], {
      cwd: `${project.root}/proj`,
      denoFlags: [
        "-A",
        "--no-prompt",
        "--no-lock",
        "--unstable-worker-options",
        "--unstable-net",
        "--config",
        "deno.json",
      ],
    });
    try {
      assert.equal(await get(server, "/"), "hono project: /");
      assert.equal(relaunchedChild(server), undefined);
    } finally {
      await stopped(server);
    }
    // An app below this repository, whose deno.json has the unstable features: none either.
    const fixture = await startServer([...BASE, `${repoRoot}tests/fixtures/listen/echo.ts`]);
    try {
      assert.equal(relaunchedChild(fixture), undefined);
    } finally {
      await stopped(fixture);
    }
  } finally {
    await project.cleanup();
  }
});

Deno.test('a "nodeModulesDir": "manual" project: Starlight itself needs no npm package', async () => {
  const project = await makeProjects();
  const dir = `${project.root}/manual`;
  try {
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ nodeModulesDir: "manual" }));
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ dependencies: { hono: "4.13.19" } }),
    );
    await Deno.writeTextFile(`${dir}/app.ts`, HONO_APP);
    const installed = await runDeno(["install", "--no-lock"], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(installed.code, 0, installed.stderr);
    const server = await startServer([...BASE, "app.ts"], {
      cwd: dir,
      denoFlags: ["-A", "--no-lock"],
      timeoutMs: 60_000,
    });
    try {
      assert.equal(await get(server, "/m"), "hono project: /m");
    } finally {
      await stopped(server);
    }
  } finally {
    await project.cleanup();
  }
});

Deno.test("the deno install recipe: a starlight command that serves any project with its config", async () => {
  const project = await makeProjects();
  const bin = `${project.root}/bin`;
  try {
    const installed = await runDeno(
      ["install", "-g", "-A", "--root", project.root, "-n", "starlight", `${repoRoot}cli.ts`],
      { timeoutMs: 120_000 },
    );
    assert.equal(installed.code, 0, installed.stderr);
    const shim = await Deno.readTextFile(`${bin}/starlight`);
    assert.match(
      shim,
      /--config \S+\.starlight\/deno\.json/,
      "deno install pins a config of its own",
    );
    const server = await startServer([...BASE, "src/app.ts"], {
      cwd: `${project.root}/proj`,
      program: `${bin}/starlight`,
      timeoutMs: 60_000,
    });
    try {
      assert.equal(await get(server, "/installed"), "hono project: /installed");
    } finally {
      await stopped(server);
    }
  } finally {
    await project.cleanup();
  }
});

Deno.test("examples/hono-project: its deno.json applies, the app unchanged", async () => {
  const server = await startServer([...BASE, "examples/hono-project/main.ts"], {
    denoFlags: ["-A", "--no-prompt", "--no-lock"],
    timeoutMs: 60_000,
  });
  try {
    assert.equal(await get(server, "/"), "Hello from a Hono project");
    assert.deepEqual(JSON.parse(await get(server, "/hello/deno")), { hello: "deno" });
  } finally {
    await stopped(server);
  }
});
