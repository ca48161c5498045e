/**
 * OpenTelemetry parity (`lib/observe/otel.ts`, issue 16 item 5): the same app served by
 * `Deno.serve`, by Starlight's engine with `withTelemetry`, and by the CLI, each in a child
 * process with `OTEL_DENO=true` exporting OTLP/HTTP JSON to a receiver this test runs. The same
 * requests must give the same spans (name, kind, scope, parent from `traceparent`, status,
 * Deno's attributes with Deno's values) and the same metrics (names, units, buckets, data
 * points by attribute set).
 *
 * @module
 */

import assert from "node:assert/strict";
import { repoRoot, startServer } from "../_helpers/server.ts";
import { withTelemetry } from "../../lib/observe/otel.ts";
import { denoTelemetry } from "../../lib/observe/otel_deno.ts";

const SERVER = `${repoRoot}tests/fixtures/parity/otel_server.ts`;
const APP = `${repoRoot}tests/fixtures/parity/otel_app.ts`;
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
/** Attributes Starlight adds to the span beyond Deno's (recommended by the conventions). */
const EXTRAS = ["client.address", "network.protocol.version", "server.address", "server.port"];

type AnyValue = Record<string, unknown>;
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  flags: number;
  status: { code?: number; message?: string };
  attributes: KeyValue[];
}
interface DataPoint {
  attributes: KeyValue[];
  count?: string;
  sum?: number;
  asInt?: string;
  asDouble?: number;
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  unit: string;
  description: string;
  histogram?: { dataPoints: DataPoint[] };
  sum?: { dataPoints: DataPoint[] };
}
interface Resource {
  resource: { attributes: KeyValue[] };
}
interface Scope {
  scope: { name: string; version?: string };
}

/** What one service exported. */
interface Export {
  spans: (OtlpSpan & { scope: Scope["scope"] })[];
  metrics: OtlpMetric[];
}

/** An OTLP/HTTP receiver (JSON), keeping what each service sent. */
class Receiver implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #byService = new Map<string, Export>();

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      const body = await req.json();
      if (path === "/v1/traces") {
        for (
          const rs of body
            .resourceSpans as (Resource & { scopeSpans: (Scope & { spans: OtlpSpan[] })[] })[]
        ) {
          const into = this.#service(rs.resource.attributes);
          for (const ss of rs.scopeSpans) {
            for (const span of ss.spans) into.spans.push({ ...span, scope: ss.scope });
          }
        }
      } else if (path === "/v1/metrics") {
        for (
          const rm of body
            .resourceMetrics as (Resource & {
              scopeMetrics: (Scope & { metrics: OtlpMetric[] })[];
            })[]
        ) {
          const into = this.#service(rm.resource.attributes);
          for (const sm of rm.scopeMetrics) {
            if (sm.scope.name === "deno") into.metrics.push(...sm.metrics);
          }
        }
      }
      return Response.json({});
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  #service(attributes: KeyValue[]): Export {
    const name = String(attributes.find((a) => a.key === "service.name")?.value.stringValue);
    let entry = this.#byService.get(name);
    if (entry === undefined) this.#byService.set(name, entry = { spans: [], metrics: [] });
    return entry;
  }

  of(service: string): Export {
    return this.#byService.get(service) ?? { spans: [], metrics: [] };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

function otelEnv(receiver: Receiver, service: string): Record<string, string> {
  return {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_SERVICE_NAME: service,
    // Export once, at exit, with everything in it.
    OTEL_METRIC_EXPORT_INTERVAL: "600000",
  };
}

/** The requests every server gets. */
async function sendRequests(base: string): Promise<void> {
  const send = async (path: string, init?: RequestInit) => {
    const response = await fetch(base + path, init);
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await send("/users/42?x=1", { headers: { traceparent: TRACEPARENT } }), 200);
  assert.equal(await send("/items", { method: "POST", body: "hello world" }), 201);
  assert.equal(await send("/boom"), 500);
  assert.equal(await send("/nothing"), 404);
  assert.equal(await fetch(base + "/stream").then((r) => r.text()), "abcdef");
}

/** Runs otel_server.ts as `kind`, sends the requests, closes its stdin and waits for its exit. */
async function runFixture(receiver: Receiver, kind: "deno" | "starlight"): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", "--no-lock", SERVER, kind],
    env: otelEnv(receiver, kind),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/PORT (\d+)/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${kind} server ended before listening: ${text}`);
      text += value;
    }
    await reader.cancel();
    await sendRequests(`http://127.0.0.1:${/PORT (\d+)/.exec(text)![1]}`);
  } finally {
    await child.stdin.close();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const status = await child.status;
    clearTimeout(timer);
    assert.equal(status.code, 0, `${kind} server exit`);
  }
}

function attributeMap(attributes: KeyValue[]): Map<string, string> {
  return new Map(attributes.map(({ key, value }) => [key, JSON.stringify(value)]));
}

function spanFor(
  exported: Export,
  method: string,
  path: string,
): OtlpSpan & { scope: Scope["scope"] } {
  const span = exported.spans.find((s) =>
    attributeMap(s.attributes).get("url.path") === JSON.stringify({ stringValue: path }) &&
    s.name === method
  );
  assert.ok(span, `no ${method} ${path} span among ${exported.spans.length}`);
  return span;
}

/** Deno's attributes, with the server's own port taken out of `url.full`. */
function comparable(span: OtlpSpan, keys?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of attributeMap(span.attributes)) {
    if (keys !== undefined && !keys.includes(key)) continue;
    out[key] = key === "url.full" ? value.replace(/127\.0\.0\.1:\d+/, "HOST") : value;
  }
  return out;
}

/** Each metric's data points, keyed by their attribute set, with their count (or value). */
function points(metrics: OtlpMetric[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const metric of metrics) {
    for (const point of (metric.histogram ?? metric.sum)!.dataPoints) {
      const key = `${metric.name} ${
        [...attributeMap(point.attributes)].sort().map(([k, v]) => `${k}=${v}`).join(" ")
      }`;
      out.set(key, point.count ?? String(point.asInt ?? point.asDouble));
    }
  }
  return out;
}

function shape(metrics: OtlpMetric[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const metric of metrics) {
    const bounds = metric.histogram?.dataPoints[0]?.explicitBounds ?? [];
    out[metric.name] = `${metric.unit} | ${metric.description} | ${bounds.join(",")}`;
  }
  return out;
}

Deno.test("otel: with telemetry off, withTelemetry returns the app itself (no cost)", () => {
  assert.equal(denoTelemetry(), null, "this test process runs without OTEL_DENO");
  const app = () => new Response("hi");
  assert.equal(withTelemetry(app), app);
});

Deno.test("otel: Starlight's engine exports the spans and metrics Deno.serve exports", async () => {
  await using receiver = new Receiver();
  await runFixture(receiver, "deno");
  await runFixture(receiver, "starlight");
  const deno = receiver.of("deno");
  const ours = receiver.of("starlight");
  assert.equal(deno.spans.length, 5, "Deno.serve exported a span per request");
  assert.equal(ours.spans.length, 5, "so did Starlight");

  for (
    const [method, path] of [["GET", "/users/42"], ["POST", "/items"], ["GET", "/boom"], [
      "GET",
      "/nothing",
    ], ["GET", "/stream"]]
  ) {
    const theirs = spanFor(deno, method, path);
    const mine = spanFor(ours, method, path);
    const what = `${method} ${path}`;
    assert.deepEqual(mine.scope, theirs.scope, `${what}: scope`);
    assert.equal(mine.kind, theirs.kind, `${what}: kind`);
    assert.equal(mine.kind, 2, "SERVER");
    assert.equal(mine.flags, theirs.flags, `${what}: flags`);
    assert.deepEqual(mine.status, theirs.status, `${what}: status`);
    const denoKeys = [...attributeMap(theirs.attributes).keys()];
    assert.deepEqual(comparable(mine, denoKeys), comparable(theirs), `${what}: Deno's attributes`);
    assert.deepEqual(
      [...attributeMap(mine.attributes).keys()].filter((k) => !denoKeys.includes(k)).sort(),
      EXTRAS,
      `${what}: extras`,
    );
  }

  const traced = spanFor(ours, "GET", "/users/42");
  assert.equal(traced.traceId, TRACE_ID, "the incoming traceparent's trace");
  assert.equal(traced.parentSpanId, PARENT_ID, "… and parent");
  assert.equal(spanFor(deno, "GET", "/users/42").parentSpanId, PARENT_ID);
  assert.equal(spanFor(ours, "GET", "/nothing").parentSpanId, "", "no traceparent: a root span");
  const extras = comparable(traced, EXTRAS);
  assert.equal(extras["client.address"], JSON.stringify({ stringValue: "127.0.0.1" }));
  assert.equal(extras["network.protocol.version"], JSON.stringify({ stringValue: "1.1" }));
  assert.match(extras["server.port"], /^\{"intValue":"\d+"\}$/);
  assert.equal(comparable(traced)["http.route"], JSON.stringify({ stringValue: "/users/:id" }));

  assert.deepEqual(shape(ours.metrics), shape(deno.metrics), "metric names, units, buckets");
  assert.deepEqual(
    Object.keys(shape(ours.metrics)).sort(),
    [
      "http.server.active_requests",
      "http.server.request.body.size",
      "http.server.request.duration",
      "http.server.response.body.size",
    ],
  );
  const mine = points(ours.metrics);
  const theirs = points(deno.metrics);
  // Deno 2.9 counts active requests as integers; the JS metrics API records doubles.
  const normalise = (map: Map<string, string>) =>
    [...map].map(([key, value]) => `${key} -> ${Number(value)}`).sort();
  assert.deepEqual(normalise(mine), normalise(theirs), "data points by attribute set");
  const sums = (exported: Export, name: string) =>
    exported.metrics.filter((m) => m.name === name).flatMap((m) => m.histogram!.dataPoints)
      .reduce((total, point) => total + (point.sum ?? 0), 0);
  assert.equal(sums(ours, "http.server.request.body.size"), 11, "the POST's Content-Length");
  assert.equal(sums(deno, "http.server.request.body.size"), 11);
  // Deno reports 0 for bodies given whole; Starlight counts every body byte it sent:
  // "user 42" (7) + '{"length":11}' (13) + "not found" (9) + "abcdef" (6), none for the failure.
  assert.equal(sums(ours, "http.server.response.body.size"), 7 + 13 + 9 + 6);
  assert.equal(sums(deno, "http.server.response.body.size"), 6);
});

Deno.test("otel: the CLI's workers export the same spans and metrics", async () => {
  await using receiver = new Receiver();
  const server = await startServer(
    ["--port", "0", "--host", "127.0.0.1", "--workers", "1", APP],
    { env: otelEnv(receiver, "starlight-cli") },
  );
  try {
    await sendRequests(`http://127.0.0.1:${server.port}`);
  } finally {
    const status = await server.stop(10_000);
    assert.equal(status.code, 0, server.stderr());
  }
  const exported = receiver.of("starlight-cli");
  assert.equal(exported.spans.length, 5, `spans: ${exported.spans.map((s) => s.name)}`);
  const traced = spanFor(exported, "GET", "/users/42");
  assert.equal(traced.traceId, TRACE_ID);
  assert.equal(traced.parentSpanId, PARENT_ID);
  assert.equal(comparable(traced)["http.route"], JSON.stringify({ stringValue: "/users/:id" }));
  assert.equal(spanFor(exported, "GET", "/boom").status.code, 2);
  const names = new Set(exported.metrics.map((m) => m.name));
  assert.ok(names.has("http.server.request.duration"), [...names].join(", "));
  const active = exported.metrics.filter((m) => m.name === "http.server.active_requests")
    .flatMap((m) => m.sum!.dataPoints).map((p) => Number(p.asDouble ?? p.asInt));
  assert.deepEqual(active, [0, 0], "GET and POST: every request finished");
});
