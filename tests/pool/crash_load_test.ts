/**
 * Apps that crash while serving keep their throughput (issue 14, item 1): a crash after serving
 * is not a start-up failure, so no back-off empties the pool; the crash log is one line per
 * crash, summarised in a loop (item 8). The load is bounded (8 keep-alive clients pausing 2 ms
 * between requests, 4 s per app, well below what two workers serve) and the bound generous
 * (80 % of the same app without faults, where 88–97 % is measured). Other processes share this
 * machine, so a pair of runs below the bound is measured once more before the test fails.
 */

import assert from "node:assert/strict";
import { failureCount, type LoadResult, runLoad } from "../_helpers/load_client.ts";
import { count, fixtures, startForSignals } from "../_helpers/supervisor.ts";

const app = `${fixtures}faulty.ts`;

/** Runs the bounded load on `path` against a fresh 2-worker server; returns it and the log. */
async function measure(path: string): Promise<{ load: LoadResult; log: string }> {
  const server = await startForSignals(["--port", "0", "--workers", "2", app]);
  try {
    await server.waitFor(/worker 2 started/);
    const stop = new AbortController();
    const running = runLoad({ port: server.port, clients: 8, path, pauseMs: 2 }, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    stop.abort();
    const load = await running;
    const status = await server.stop();
    assert.equal(status.code, 0);
    return { load, log: server.stderr() };
  } finally {
    server.kill("SIGKILL");
    await server.exited();
  }
}

Deno.test("1% uncaught errors, 1% unhandled rejections, Deno.exit() at each worker's 2,000th request: ≥ 80% of the fault-free throughput (issue 14, item 1)", async () => {
  const figures: string[] = [];
  for (const path of ["/throw", "/reject", "/exit"]) {
    let pair = "";
    for (let attempt = 1; attempt <= 2; attempt++) {
      const baseline = await measure("/ok");
      assert.equal(failureCount(baseline.load), 0, baseline.load.examples.join("; "));
      assert.ok(baseline.load.ok > 2000, `too little load to judge: ${baseline.load.ok}`);
      const { load, log } = await measure(path);
      pair = `${path} ${load.ok} (${failureCount(load)} failed) against /ok ${baseline.load.ok}`;
      const faults = count(log, /worker \d+ crashed/) + count(log, /more worker crash/);
      assert.ok(faults > 0, `${path}: no fault happened\n${log}`);
      // Back-off is for workers that never served: none of these is a start failure.
      assert.doesNotMatch(log, /next attempt in|could not start|right after start/, path);
      if (load.ok >= 0.8 * baseline.load.ok) break;
      assert.ok(attempt < 2, `${pair}; before: ${figures.join(", ")}`);
    }
    figures.push(pair);
  }
  console.log(`requests completed in 4 s: ${figures.join(", ")}`);
});

Deno.test("a crash loop is logged one line per crash (message and first frame), then summarised (issue 14, item 8)", async () => {
  const { log } = await measure("/throw");
  const lines = log.split("\n").filter((line) =>
    /worker \d+ crashed/.test(line) && !/more worker crash/.test(line)
  );
  assert.ok(lines.length >= 1 && lines.length <= 5, `${lines.length} crash lines:\n${log}`);
  for (const line of lines) {
    assert.match(
      line,
      /: uncaught Error: boom at request \d+ \(at [^\n]*file:\/\/\/[^ ]*faulty\.ts:\d+:\d+\)+$/,
    );
  }
  assert.match(
    log,
    /\.\.\.and \d+ more worker crash\(es\) in the last 10 s, the last: worker \d+ /,
  );
  assert.doesNotMatch(log, /^\s+at /m, "no stack trace in the log");
});
