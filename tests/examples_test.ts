/**
 * Every example in `examples/`, started with the very command its header comment documents
 * (port 8080 swapped for a free one, listening on 127.0.0.1 only), then used as its reader
 * would use it. `examples/nginx.conf` is tested by `tests/deploy/nginx_test.ts`.
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "./_helpers/server.ts";
import { fetchWithin, runDeno } from "./_helpers/examples.ts";

// ---------------------------------------------------------------------------------------------
// The documented command.

/** A `deno run` command line from an example's header, split up for `startServer`. */
interface Command {
  /** `NAME=value` assignments before `deno`. */
  env: Record<string, string>;
  /** Runtime flags between `run` and the script. */
  denoFlags: string[];
  /** The script, relative to the repository root. */
  script: string;
  /** Everything after the script. */
  args: string[];
}

/**
 * The first `deno run` line of the `sh` blocks in the example's header comment, with `\`
 * continuations joined. Only whitespace separates words in these lines (no quoting).
 */
async function documentedCommand(example: string): Promise<Command> {
  const source = await Deno.readTextFile(`${repoRoot}examples/${example}`);
  const header = source.slice(0, source.indexOf("*/"))
    .split("\n").map((line) => line.replace(/^\s*\*\s?/, "")).join("\n");
  const blocks = [...header.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(blocks.length > 0, `${example}: no \`\`\`sh block in the header comment`);
  const line = blocks.join("\n").replace(/\s*\\\n\s*/g, " ").split("\n")
    .find((text) => /^(\w+=\S+\s+)*deno run /.test(text.trim()));
  assert.ok(line, `${example}: no deno run line in the header's sh blocks`);
  const words = line.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^\w+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split("=");
    env[name] = value.join("=");
  }
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  const rest = words.slice(2);
  const scriptAt = rest.findIndex((word) => !word.startsWith("-"));
  return {
    env,
    denoFlags: rest.slice(0, scriptAt),
    script: rest[scriptAt],
    args: rest.slice(scriptAt + 1),
  };
}

/** How {@link startDocumented} changes the documented command. */
interface Changes {
  /** Substrings to replace in every word (after 8080 became 0). */
  replace?: Record<string, string>;
  /** Words to leave out (after the replacements). */
  drop?: string[];
  /** More environment. */
  env?: Record<string, string>;
  /** Working directory (default: the repository root). */
  cwd?: string;
}

/**
 * Starts the documented command with its port 8080 replaced by a free one (`0`) and the server
 * on 127.0.0.1: the CLI gets `--host 127.0.0.1`, the embedding programs take the host as their
 * second argument.
 */
async function startDocumented(example: string, changes: Changes = {}): Promise<RunningServer> {
  const command = await documentedCommand(example);
  const swap = (word: string) => {
    let out = word === "8080" ? "0" : word;
    for (const [from, to] of Object.entries(changes.replace ?? {})) out = out.replaceAll(from, to);
    return out;
  };
  const args = command.args.map(swap).filter((word) => !changes.drop?.includes(word));
  const env = Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, swap(v)]));
  const viaCli = command.script === "mod.ts";
  return await startServer(viaCli ? ["--host", "127.0.0.1", ...args] : [...args, "127.0.0.1"], {
    entry: `${repoRoot}${command.script}`,
    denoFlags: command.denoFlags,
    env: { ...env, ...changes.env },
    cwd: changes.cwd,
  });
}

async function withExample(
  example: string,
  body: (server: RunningServer, base: string) => Promise<void>,
  changes: Changes = {},
): Promise<void> {
  const server = await startDocumented(example, changes);
  try {
    await body(server, `http://127.0.0.1:${server.port}`);
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, `${example} did not stop cleanly:\n${server.stderr()}`);
  }
}

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<[number, Record<string, unknown>]> {
  const response = await fetchWithin(url, init);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return [response.status, await response.json()];
}

function postJson(body: string, type = "application/json"): RequestInit {
  return { method: "POST", body, headers: { "content-type": type } };
}

// ---------------------------------------------------------------------------------------------

Deno.test("examples/json_api.ts: routes, JSON in and out, errors as JSON", async () => {
  await withExample("json_api.ts", async (_server, base) => {
    const [status, health] = await getJson(`${base}/api/health`);
    assert.equal(status, 200);
    assert.equal(health.status, "ok");

    assert.deepEqual(await getJson(`${base}/api/sum`, postJson('{"numbers":[1,2,3.5]}')), [
      200,
      { count: 3, sum: 6.5 },
    ]);
    assert.deepEqual(await getJson(`${base}/api/sum`, postJson("{nope")), [
      400,
      { error: "the body is not valid JSON" },
    ]);
    assert.equal((await getJson(`${base}/api/sum`, postJson("1", "text/plain")))[0], 415);
    assert.equal((await getJson(`${base}/api/sum`, postJson('{"numbers":["1"]}')))[0], 422);

    const echo = await getJson(`${base}/api/echo?a=1&b=two`);
    assert.deepEqual(echo[1].query, { a: "1", b: "two" });

    const wrongMethod = await fetchWithin(`${base}/api/health`, { method: "DELETE" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "GET");
    await wrongMethod.body?.cancel();
    assert.equal((await getJson(`${base}/nowhere`))[0], 404);
  });
});

Deno.test("examples/hono.ts: a Hono app is served as it is", async () => {
  await withExample("hono.ts", async (_server, base) => {
    const root = await fetchWithin(`${base}/`);
    assert.equal(await root.text(), "Hono on Starlight\n");
    assert.match(root.headers.get("x-response-time") ?? "", /^\d+\.\dms$/);

    assert.deepEqual(await getJson(`${base}/hello/starlight`), [200, { hello: "starlight" }]);
    assert.deepEqual(await getJson(`${base}/echo`, postJson('{"a":[1,2]}')), [
      200,
      { received: { a: [1, 2] } },
    ]);
    assert.equal((await getJson(`${base}/echo`, postJson("oops")))[0], 400);
    assert.deepEqual(await getJson(`${base}/missing`), [404, { error: "no route for /missing" }]);
  });
});

Deno.test("examples/static.ts: files from public/, whatever the current directory", async () => {
  // Started from a directory that is not the repository: the root comes from import.meta.url,
  // and no --allow-read is needed since public/ is inside the app's own directory.
  const elsewhere = await Deno.makeTempDir({ prefix: "starlight-static-" });
  try {
    await withExample("static.ts", async (_server, base) => {
      const index = await fetchWithin(`${base}/`);
      assert.equal(index.status, 200);
      assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
      const html = await index.text();
      assert.equal(html, await Deno.readTextFile(`${repoRoot}examples/public/index.html`));

      const css = await fetchWithin(`${base}/style.css`);
      assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
      assert.match(await css.text(), /font-family/);

      assert.equal((await getJson(`${base}/api/time`))[0], 200);

      for (const path of ["/missing.html", "/..%2fstatic.ts", "/%2e%2e/static.ts"]) {
        const response = await fetchWithin(`${base}${path}`);
        const text = await response.text();
        assert.equal(response.status, 404, `${path} should not be served`);
        assert.doesNotMatch(text, /serveStatic/, `${path} leaked the app's source`);
      }
    }, { cwd: elsewhere, replace: { "examples/static.ts": `${repoRoot}examples/static.ts` } });
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

/** Reads server-sent events from `response`, noting when each arrived. */
async function* readEvents(
  response: Response,
): AsyncGenerator<{ event: string; data: string; arrived: number }> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(
        block.split("\n").map((
          line,
        ) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      if (fields.data !== undefined) {
        yield { event: fields.event ?? "message", data: fields.data, arrived: Date.now() };
      }
    }
  }
}

Deno.test("examples/sse.ts: each event arrives before the next one is produced", async () => {
  await withExample("sse.ts", async (_server, base) => {
    const page = await fetchWithin(`${base}/`);
    assert.match(await page.text(), /new EventSource\("\/events/);

    const interval = 400;
    const response = await fetchWithin(`${base}/events?count=4&interval=${interval}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const messages: { n: number; at: number; arrived: number }[] = [];
    let done = false;
    for await (const event of readEvents(response)) {
      if (event.event === "done") {
        done = true;
        continue;
      }
      messages.push({ ...JSON.parse(event.data), arrived: event.arrived });
    }
    assert.ok(done, "the stream ends with a done event");
    assert.deepEqual(messages.map((m) => m.n), [1, 2, 3, 4]);
    for (let i = 0; i + 1 < messages.length; i++) {
      const [event, next] = [messages[i], messages[i + 1]];
      // Produced a whole interval apart (timers never fire early; allow clock rounding)...
      assert.ok(next.at - event.at >= interval - 5, `events ${event.n} and ${next.n} too close`);
      // ...and each was received before the server even made the next one: not buffered.
      assert.ok(
        event.arrived < next.at,
        `event ${event.n} arrived at ${event.arrived}, after event ${next.n} was produced at ${next.at}`,
      );
    }

    // A client that leaves early cancels the stream; the server carries on serving.
    const endless = await fetchWithin(`${base}/events?count=10000&interval=20`);
    const reader = readEvents(endless);
    await reader.next();
    await reader.next();
    await reader.return(undefined);
    const after = await fetchWithin(`${base}/events?count=1&interval=10`);
    assert.match(await after.text(), /"n":1/);
  });
});

/** The processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** The peak resident memory (VmHWM) of the server process, in bytes. */
async function peakMemory(server: RunningServer): Promise<number> {
  // Where the CLI re-launched itself (for the runtime flags it needs), the server is its only
  // child; from this repository, deno.json has those flags and there is no re-launch.
  const children = await childrenOf(server.process.pid);
  assert.ok(children.length <= 1, `more than one child of ${server.process.pid}: ${children}`);
  const pid = children[0] ?? server.process.pid;
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = status.match(/^VmHWM:\s+(\d+) kB$/m)?.[1];
  assert.ok(kib, "no VmHWM in /proc/PID/status");
  return Number(kib) * 1024;
}

Deno.test("examples/upload.ts: counts a streamed body without buffering it", async () => {
  await withExample("upload.ts", async (server, base) => {
    const MIB = 1024 * 1024;
    // A warm-up upload, so the peak below is the steady state of a server that has uploaded.
    const small = await getJson(`${base}/upload`, {
      method: "POST",
      body: new Uint8Array(8 * MIB),
    });
    assert.deepEqual([small[0], small[1].bytes, small[1].declared], [
      200,
      8 * MIB,
      String(8 * MIB),
    ]);
    const before = await peakMemory(server);

    // 256 MiB in 64 KiB chunks, sent chunked as it is produced.
    const total = 256 * MIB;
    const chunk = new Uint8Array(64 * 1024).fill(7);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const [status, result] = await getJson(`${base}/upload`, {
      method: "PUT",
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(status, 200);
    assert.equal(result.bytes, total);
    assert.equal(result.declared, null, "sent chunked, without a content-length");
    assert.ok((result.chunks as number) > 1);
    const growth = (await peakMemory(server)) - before;
    assert.ok(growth < 64 * MIB, `the server's peak memory grew by ${growth / MIB} MiB`);

    const get = await fetchWithin(`${base}/upload`);
    assert.equal(get.status, 405);
    await get.body?.cancel();
  });
});

Deno.test("examples/permissions.ts: env and net only as granted", async (t) => {
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hello from upstream"),
  );
  const port = String(upstream.addr.port);
  try {
    await t.step("with the documented grants it reads UPSTREAM and fetches it", async () => {
      await withExample("permissions.ts", async (_server, base) => {
        const [status, body] = await getJson(`${base}/`);
        assert.equal(status, 200, JSON.stringify(body));
        assert.deepEqual(body, {
          upstream: `http://127.0.0.1:${port}/`,
          status: 200,
          body: "hello from upstream",
        });
      }, { replace: { "9000": port } });
    });

    await t.step("without them the sandbox refuses the environment variable", async () => {
      await withExample("permissions.ts", async (_server, base) => {
        const [status, body] = await getJson(`${base}/`);
        assert.equal(status, 503);
        assert.match(String(body.detail), /env access to "UPSTREAM"/);
      }, {
        replace: { "9000": port },
        drop: ["--allow-env=UPSTREAM", `--allow-net=127.0.0.1:${port}`],
      });
    });

    await t.step("with the env grant alone, the upstream host is refused", async () => {
      await withExample("permissions.ts", async (_server, base) => {
        const [status, body] = await getJson(`${base}/`);
        assert.equal(status, 503);
        assert.match(String(body.detail), new RegExp(`net access to "127\\.0\\.0\\.1:${port}"`));
      }, {
        replace: { "9000": port },
        drop: [`--allow-net=127.0.0.1:${port}`],
      });
    });
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("examples/embed.ts: serve() in a program, restart on SIGHUP, stop on SIGTERM", async () => {
  const server = await startDocumented("embed.ts");
  try {
    await server.waitFor("embed: serving http://localhost:");
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(await (await fetchWithin(base)).text(), "Hello, World!\n");
    server.kill("SIGHUP");
    await server.waitFor("embed: workers restarted");
    assert.equal(await (await fetchWithin(base)).text(), "Hello, World!\n");
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
  }
  assert.match(server.stderr(), /embed: stopped/);
});

/**
 * Runs a compiled server binary, waits for its banner, calls `body` with its port, then stops
 * it with SIGTERM and expects exit code 0.
 */
async function runBinary(
  path: string,
  args: string[],
  body: (port: number) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(path, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  let output = "";
  const decoder = new TextDecoder();
  const banner = Promise.withResolvers<number>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      const port = output.match(/listening at port (\d+)/)?.[1];
      if (port !== undefined) banner.resolve(Number(port));
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const timer = setTimeout(() => banner.reject(new Error(`no banner in 20 s:\n${output}`)), 20_000);
  child.status.then(() => banner.reject(new Error(`the binary exited:\n${output}`)));
  try {
    await body(await banner.promise);
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, output);
  }
}

Deno.test("examples/compile.ts: runs as a program; deno compile builds it where it can", async (t) => {
  await t.step("uncompiled, with the flags the compile task bakes in", async () => {
    const server = await startDocumented("compile.ts");
    try {
      assert.equal(
        await (await fetchWithin(`http://127.0.0.1:${server.port}/`)).text(),
        "Hello, World!\n",
      );
    } finally {
      assert.equal((await server.stop()).code, 0, server.stderr());
    }
  });

  await t.step("the compile task is the documented command", async () => {
    const config = JSON.parse(await Deno.readTextFile(`${repoRoot}deno.json`));
    const task: string = config.tasks.compile;
    const source = await Deno.readTextFile(`${repoRoot}examples/compile.ts`);
    const documented = source.slice(0, source.indexOf("*/")).split("\n")
      .map((line) => line.replace(/^\s*\*\s?/, "")).join("\n")
      .replace(/\s*\\\n\s*/g, " ").split("\n").find((line) => line.startsWith("deno compile "));
    assert.equal(documented, task);
    for (
      const word of [
        "--unstable-worker-options",
        "--unstable-net",
        "--no-prompt",
        "--include lib/pool/thread_worker.ts",
        "--include lib/listen/tls_front.ts",
        "--include examples/hello.ts",
        "examples/compile.ts",
      ]
    ) {
      assert.ok(task.includes(word), `the compile task lacks ${word}: ${task}`);
    }
  });

  await t.step("deno compile: a binary that serves, or the runtime download it needs", async () => {
    const dir = await Deno.makeTempDir({ prefix: "starlight-compile-" });
    try {
      const output = `${dir}/starlight-hello`;
      const result = await runDeno([
        "compile",
        "-A",
        "--unstable-worker-options",
        "--unstable-net",
        "--no-prompt",
        "--include",
        "lib/pool/thread_worker.ts",
        "--include",
        "lib/listen/tls_front.ts",
        "--include",
        "examples/hello.ts",
        "--output",
        output,
        "examples/compile.ts",
      ], { cwd: repoRoot, timeoutMs: 45_000 });
      if (result.code !== 0) {
        // These machines cannot download denort: that, and only that, may stop the build.
        assert.match(result.stderr, /denort-[\w-]+\.zip/, result.stderr);
        console.log(`deno compile could not fetch its runtime here:\n${result.stderr.trim()}`);
        return;
      }
      await runBinary(output, ["0", "127.0.0.1"], async (port) => {
        const response = await fetchWithin(`http://127.0.0.1:${port}/`);
        assert.equal(await response.text(), "Hello, World!\n");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
