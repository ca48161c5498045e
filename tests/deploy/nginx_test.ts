/**
 * `examples/nginx.conf` with Debian's nginx in front of a real Starlight: the test runs the
 * example file itself (in a temporary prefix, on free 127.0.0.1 ports), sends requests
 * through nginx and checks that Starlight served them over fewer connections than there were
 * requests — the upstream keep-alive the example is there to show — and that the forwarding
 * headers, request bodies and an unbuffered event stream get through.
 */

import assert from "node:assert/strict";
import { repoRoot, startServer } from "../_helpers/server.ts";
import { fetchWithin, findTool, freePort, waitForPort } from "../_helpers/examples.ts";

const nginx = findTool("nginx", "nginx_test");

/**
 * The example configuration for a test run: Starlight's port for 5000, `listen` on
 * `listenPort`, and nginx's temporary files in the prefix instead of /var/lib/nginx.
 */
function testConfig(example: string, upstreamPort: number, listenPort: number): string {
  const replacements: [string, string][] = [
    ["server 127.0.0.1:5000;", `server 127.0.0.1:${upstreamPort};`],
    ["listen 127.0.0.1:8080;", `listen 127.0.0.1:${listenPort};`],
    [
      "http {",
      "http {\n" + ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .map((kind) => `  ${kind}_temp_path temp/${kind};`).join("\n"),
    ],
  ];
  let config = example;
  for (const [from, to] of replacements) {
    assert.ok(config.includes(from), `examples/nginx.conf no longer contains "${from}"`);
    config = config.replace(from, to);
  }
  return config;
}

interface Seen {
  method: string;
  port: number;
  peer: string;
  httpVersion: string;
  connection: string | null;
  host: string | null;
  realIp: string | null;
  forwardedFor: string | null;
  bytes: number;
}

Deno.test({
  name: "examples/nginx.conf: nginx reuses its connections to Starlight",
  ignore: nginx === undefined,
  async fn(t) {
    const prefix = await Deno.makeTempDir({ prefix: "starlight-nginx-" });
    // nginx's workers run as nobody when it is started by root: they must reach temp/.
    await Deno.chmod(prefix, 0o755);
    const starlight = await startServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--workers",
      "2",
      "tests/fixtures/examples/peer_app.ts",
    ]);
    let proxy: Deno.ChildProcess | undefined;
    let proxyOutput = "";
    let collected: Promise<unknown> = Promise.resolve();
    try {
      const listenPort = freePort();
      const example = await Deno.readTextFile(`${repoRoot}examples/nginx.conf`);
      await Deno.writeTextFile(
        `${prefix}/nginx.conf`,
        testConfig(example, starlight.port, listenPort),
      );
      await Deno.mkdir(`${prefix}/temp`);
      proxy = new Deno.Command(nginx!, {
        args: ["-p", `${prefix}/`, "-c", "nginx.conf", "-g", "daemon off;"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const decoder = new TextDecoder();
      const collect = async (stream: ReadableStream<Uint8Array>) => {
        for await (const chunk of stream) proxyOutput += decoder.decode(chunk, { stream: true });
      };
      collected = Promise.all([collect(proxy.stdout), collect(proxy.stderr)]);
      const proxyStatus = proxy.status.then(async (status) => {
        await collected;
        return status;
      });
      await Promise.race([
        waitForPort(listenPort, 10_000),
        proxyStatus.then((status) => {
          throw new Error(`nginx exited (${status.code}):\n${proxyOutput}`);
        }),
      ]);
      const base = `http://127.0.0.1:${listenPort}`;

      const seen: Seen[] = [];
      const get = async (path = "/", init?: RequestInit) => {
        const response = await fetchWithin(`${base}${path}`, init);
        assert.equal(response.status, 200, `${path}: ${response.status} ${proxyOutput}`);
        const body: Seen = await response.json();
        seen.push(body);
        return body;
      };

      await t.step("requests get through, as HTTP/1.1 with the forwarding headers", async () => {
        const first = await get();
        assert.equal(first.httpVersion, "HTTP/1.1");
        assert.equal(first.connection, null, "nginx sends an empty Connection header: none");
        assert.equal(first.host, "127.0.0.1", "Host is $host: the name, without the port");
        assert.equal(first.realIp, "127.0.0.1");
        assert.equal(first.forwardedFor, "127.0.0.1");
        assert.equal(first.peer, "127.0.0.1");
      });

      await t.step("a request body is passed on", async () => {
        const body = new Uint8Array(512 * 1024).fill(1);
        const result = await get("/", { method: "POST", body });
        assert.equal(result.bytes, body.length);
      });

      await t.step("sequential and concurrent requests share upstream connections", async () => {
        for (let i = 0; i < 30; i++) await get();
        for (let round = 0; round < 4; round++) {
          await Promise.all(Array.from({ length: 8 }, () => get()));
        }
        const connections = new Set(seen.map((s) => s.port)).size;
        assert.ok(
          connections < seen.length / 3,
          `Starlight saw ${connections} connections for ${seen.length} requests through nginx`,
        );
      });

      await t.step("events are passed on unbuffered under /events", async () => {
        const response = await fetchWithin(`${base}/events`);
        assert.equal(response.status, 200);
        const decoder = new TextDecoder();
        const events: { n: number; at: number; arrived: number }[] = [];
        let buffer = "";
        for await (const chunk of response.body!) {
          buffer += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) !== -1) {
            const data = buffer.slice(0, end).replace(/^data: /, "");
            buffer = buffer.slice(end + 2);
            events.push({ ...JSON.parse(data), arrived: Date.now() });
          }
        }
        assert.deepEqual(events.map((e) => e.n), [1, 2, 3]);
        for (let i = 0; i + 1 < events.length; i++) {
          assert.ok(
            events[i].arrived < events[i + 1].at,
            `event ${i + 1} arrived after event ${i + 2} was produced: nginx buffered it`,
          );
        }
      });
    } finally {
      if (proxy !== undefined) {
        try {
          proxy.kill("SIGQUIT"); // nginx's graceful shutdown
        } catch {
          // Already exited.
        }
        const timer = setTimeout(() => {
          try {
            proxy!.kill("SIGKILL");
          } catch {
            // Already exited.
          }
        }, 10_000);
        await proxy.status;
        clearTimeout(timer);
        await collected;
      }
      const status = await starlight.stop();
      await Deno.remove(prefix, { recursive: true });
      assert.equal(status.code, 0, starlight.stderr());
    }
  },
});
