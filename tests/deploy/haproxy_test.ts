/**
 * `examples/haproxy.cfg` with Debian's haproxy in front of two real Starlight instances
 * (issue 14, item 5): under a steady load of GETs and POSTs, each instance in turn is stopped
 * with TERM and started again, and not one request fails. The instances run with
 * `--health-path` and `--shutdown-delay`, as the example says.
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { findTool, freePort, waitForPort } from "../_helpers/examples.ts";

const haproxy = findTool("haproxy", "haproxy_test");

const app = `${repoRoot}examples/hello.ts`;

function startInstance(port: number): Promise<RunningServer> {
  return startServer([
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--workers",
    "1",
    "--health-path",
    "/healthz",
    "--shutdown-delay",
    "1.5",
    app,
  ]);
}

/** Waits until haproxy's stats say `server` is UP (or `ms` pass, then throws). */
async function untilUp(statsPort: number, server: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const csv = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`).then((r) => r.text())
      .catch(() => "");
    if (new RegExp(`^starlight,${server},.*?,UP,`, "m").test(csv)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`haproxy never saw ${server} up`);
}

Deno.test({
  name:
    "haproxy: restarting each of two instances in turn under GET and POST load fails no request",
  ignore: haproxy === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const [one, two, front, stats] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const dir = await Deno.makeTempDir({ prefix: "starlight-haproxy-" });
    const example = await Deno.readTextFile(`${repoRoot}examples/haproxy.cfg`);
    const replacements: [string, string][] = [
      ["bind 127.0.0.1:8080", `bind 127.0.0.1:${front}`],
      ["server one 127.0.0.1:5001", `server one 127.0.0.1:${one}`],
      ["server two 127.0.0.1:5002", `server two 127.0.0.1:${two}`],
    ];
    let config = example;
    for (const [from, to] of replacements) {
      assert.ok(config.includes(from), `examples/haproxy.cfg no longer contains "${from}"`);
      config = config.replace(from, to);
    }
    config += `\nlisten stats\n  bind 127.0.0.1:${stats}\n  stats enable\n  stats uri /stats\n`;
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, config);
    const instances = [await startInstance(one), await startInstance(two)];
    const proxy = new Deno.Command(haproxy!, {
      args: ["-db", "-f", `${dir}/haproxy.cfg`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const proxyLog = proxy.stderr.pipeThrough(new TextDecoderStream()).getReader();
    (async () => {
      for (;;) if ((await proxyLog.read()).done) return;
    })();
    let stop = false;
    const failures: string[] = [];
    let sent = 0;
    try {
      await waitForPort(front, 10_000);
      await untilUp(stats, "one");
      await untilUp(stats, "two");
      const client = async (post: boolean) => {
        while (!stop) {
          sent++;
          try {
            const response = await fetch(`http://127.0.0.1:${front}/`, {
              method: post ? "POST" : "GET",
              body: post ? "a body that must arrive once" : undefined,
            });
            const text = await response.text();
            if (response.status !== 200) failures.push(`${response.status} ${text.slice(0, 80)}`);
          } catch (error) {
            failures.push(String(error));
          }
        }
      };
      const load = [client(false), client(true), client(false), client(true)];
      for (const [i, port] of [one, two].entries()) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const status = await instances[i].stop(15_000);
        assert.equal(status.code, 0, instances[i].stderr());
        instances[i] = await startInstance(port);
        await untilUp(stats, i === 0 ? "one" : "two");
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      await Promise.all(load);
      console.log(
        `haproxy: ${sent} requests through two rolling restarts, ${failures.length} failed`,
      );
      assert.ok(sent > 100, `only ${sent} requests sent`);
      assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    } finally {
      stop = true;
      proxy.kill("SIGKILL");
      await proxy.status;
      for (const instance of instances) {
        instance.kill("SIGKILL");
        await instance.exited();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
