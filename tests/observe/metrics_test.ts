/**
 * `--metrics-listen` (issue 16, item 7): the figures formatted (Prometheus text, status JSON),
 * and scraped from a running server under load, where they must add up to what was sent.
 */
import assert from "node:assert/strict";
import { inFlight, prometheusText, statusJson } from "../../lib/observe/metrics.ts";
import { LOOPBACK, repoRoot } from "../_helpers/server.ts";
import { withServer } from "../_helpers/supervisor.ts";

const SNAPSHOT = {
  uptime: 12,
  restarts: 3,
  crashes: 1,
  requests: 25,
  responses: [0, 20, 1, 3, 0],
  workers: [{
    id: 4,
    state: "serving",
    requests: 10,
    responses: [0, 7, 1, 1, 0],
    connections: 2,
    uptime: 9,
    heap: 1024,
  }],
};

Deno.test("metrics: Prometheus text with HELP and TYPE per family, one sample per worker and status class", () => {
  const text = prometheusText(SNAPSHOT);
  assert.match(
    text,
    /^# HELP starlight_uptime_seconds .+\n# TYPE starlight_uptime_seconds gauge\nstarlight_uptime_seconds 12\n/,
  );
  assert.match(text, /\nstarlight_worker_restarts_total 3\n/);
  assert.match(text, /\nstarlight_worker_crashes_total 1\n/);
  assert.match(text, /\nstarlight_server_requests_total 25\n/);
  assert.match(text, /\nstarlight_server_responses_total\{code="4xx"\} 3\n/);
  assert.match(text, /\nstarlight_responses_total\{worker="4",code="2xx"\} 7\n/);
  assert.match(text, /\nstarlight_requests_in_flight\{worker="4"\} 1\n/);
  assert.match(text, /\nstarlight_open_connections\{worker="4"\} 2\n/);
  assert.ok(text.endsWith("\n"));
  for (const line of text.trimEnd().split("\n")) {
    assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? \d+)$/, line);
  }
  const status = JSON.parse(statusJson(SNAPSHOT));
  assert.deepEqual(status.workers[0].responses, {
    "1xx": 0,
    "2xx": 7,
    "3xx": 1,
    "4xx": 1,
    "5xx": 0,
  });
  assert.equal(status.workers[0].inFlight, 1);
  assert.equal(inFlight({ requests: 1, responses: [0, 3, 0, 0, 0] }), 0, "never negative");
});

Deno.test("--metrics-listen: /metrics and /status add up to the requests sent under load, recycled workers included; other paths 404, other methods 405", async () => {
  const args = [
    ...LOOPBACK,
    "--workers",
    "2",
    "--max-reqs-per-child",
    "70",
    "--metrics-listen",
    "127.0.0.1:0",
    `${repoRoot}tests/fixtures/listen/echo.ts`,
  ];
  await withServer(args, async (server) => {
    await server.waitFor(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/, 5000);
    const metricsPort = Number(/metrics at http:\/\/127\.0\.0\.1:(\d+)/.exec(server.stderr())![1]);
    const sent = 200;
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        for (let i = client; i < sent; i += 8) {
          await (await fetch(`http://127.0.0.1:${server.port}/n${i}`)).body?.cancel();
        }
      }),
    );
    // Workers report at each heartbeat (every second); recycled ones stay in the totals.
    let status = { requests: 0, responses: { "2xx": 0 }, restarts: 0 };
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      status = await (await fetch(`http://127.0.0.1:${metricsPort}/status`)).json();
      if (status.responses["2xx"] >= sent) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(status.restarts >= 1, "workers were recycled on the way");
    assert.equal(status.requests, sent);
    assert.equal(status.responses["2xx"], sent);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(
      text,
      new RegExp(`^starlight_server_responses_total\\{code="2xx"\\} ${sent}$`, "m"),
    );
    const other = await fetch(`http://127.0.0.1:${metricsPort}/other`);
    assert.equal(other.status, 404);
    await other.body?.cancel();
    const post = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});
