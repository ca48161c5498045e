/**
 * OpenTelemetry for requests served by Starlight's engine, as `Deno.serve` produces it with
 * `OTEL_DENO=true` (ext/http/00_serve.ts, ext/telemetry/util.ts and ext/http/lib.rs in Deno
 * 2.9): per request a SERVER span named after the method, in scope `deno`, parented by an
 * incoming `traceparent`, active while the app runs (so the app's own spans, `fetch` calls and
 * logs join its trace); and the metrics `http.server.request.duration`,
 * `http.server.active_requests`, `http.server.request.body.size` and
 * `http.server.response.body.size`, with Deno's names, units, buckets and attributes.
 *
 * Differences from `Deno.serve`, on purpose: the span also carries the recommended
 * `client.address`, `network.protocol.version`, `server.address` and `server.port`; and the
 * response body size is the number of body bytes (Deno 2.9 reports 0 for bodies given whole).
 *
 * When telemetry is off, {@link withTelemetry} returns the handler itself: it costs nothing.
 *
 * @module
 */

import type { Handler, ServeHandlerInfo } from "../app/contract.ts";
import { readResponseParts, type ResponseParts } from "../deno/response_parts.ts";
import { type UpgradableResponse, upgradeKey } from "../engine/handoff.ts";
import { utf8Length } from "../http/utf8_length.ts";
import {
  type DenoTelemetry,
  denoTelemetry,
  type OtelGetter,
  type OtelMeter,
  type OtelSpan,
  SPAN_KEY,
} from "./otel_deno.ts";

/** Span kind SERVER in the OpenTelemetry JS API. */
const SERVER = 1;
/** Span status ERROR. */
const ERROR = 2;

const SIZE_BUCKETS = [0, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
const DURATION_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

/** Deno's HTTP server instruments (ext/http/lib.rs `OtelCollectors`). */
class HttpMetrics {
  readonly duration;
  readonly active;
  readonly requestSize;
  readonly responseSize;

  constructor(meter: OtelMeter) {
    this.duration = meter.createHistogram("http.server.request.duration", {
      unit: "s",
      description: "Duration of HTTP server requests.",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.active = meter.createUpDownCounter("http.server.active_requests", {
      unit: "{request}",
      description: "Number of active HTTP server requests.",
    });
    this.requestSize = meter.createHistogram("http.server.request.body.size", {
      unit: "By",
      description: "Size of HTTP server request bodies.",
      advice: { explicitBucketBoundaries: SIZE_BUCKETS },
    });
    this.responseSize = meter.createHistogram("http.server.response.body.size", {
      unit: "By",
      description: "Size of HTTP server response bodies.",
      advice: { explicitBucketBoundaries: SIZE_BUCKETS },
    });
  }
}

const headerGetter: OtelGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * Wraps `handler` so that each request is traced and measured through Deno's telemetry; returns
 * `handler` itself when telemetry is off (`telemetry` defaults to what this process has).
 *
 * @example
 * ```ts
 * import { withTelemetry } from "./otel.ts";
 * const app = () => new Response("hi");
 * // Without OTEL_DENO=true there is nothing to record: the app is returned as it is.
 * console.log(withTelemetry(app) === app);
 * ```
 */
export function withTelemetry(
  handler: Handler,
  telemetry: DenoTelemetry | null = denoTelemetry(),
): Handler {
  if (telemetry === null) return handler;
  const { tracer, propagation, contextManager } = telemetry;
  const metrics = telemetry.meter === null ? null : new HttpMetrics(telemetry.meter);
  return (request, info) => {
    const started = performance.now();
    const scheme = schemeOf(request.url);
    const counted = {
      "http.request.method": request.method,
      "url.scheme": scheme,
    };
    metrics?.active.add(1, counted);
    const record = new RequestRecord(request, info, scheme, started, metrics, counted);
    if (tracer === null) return record.settle(handler(request, info));
    let context = contextManager.active();
    if (propagation !== null) context = propagation.extract(context, request.headers, headerGetter);
    const span = tracer.startSpan(request.method, { kind: SERVER }, context);
    record.trace(span);
    if (!span.isRecording()) return record.settle(handler(request, info));
    return contextManager.with(
      context.setValue(SPAN_KEY, span),
      () => record.settle(handler(request, info)),
    );
  };
}

/** One request's span and measurements, finished when its response is known and sent. */
class RequestRecord {
  readonly #request: Request;
  readonly #info: ServeHandlerInfo;
  readonly #scheme: string;
  readonly #started: number;
  readonly #metrics: HttpMetrics | null;
  readonly #counted: Record<string, string>;
  #span: OtelSpan | null = null;
  #route: string | null = null;

  constructor(
    request: Request,
    info: ServeHandlerInfo,
    scheme: string,
    started: number,
    metrics: HttpMetrics | null,
    counted: Record<string, string>,
  ) {
    this.#request = request;
    this.#info = info;
    this.#scheme = scheme;
    this.#started = started;
    this.#metrics = metrics;
    this.#counted = counted;
  }

  /** Starts tracing: the request's attributes, and the app's `http.route` noted for metrics. */
  trace(span: OtelSpan): void {
    this.#span = span;
    const request = this.#request;
    const url = new URL(request.url);
    // As ext/telemetry/util.ts updateSpanFromRequest, in its order.
    span.setAttribute("http.request.method", request.method);
    span.setAttribute("url.full", request.url);
    span.setAttribute("url.scheme", this.#scheme);
    span.setAttribute("url.path", url.pathname);
    span.setAttribute("url.query", url.search.slice(1));
    // Recommended by the HTTP semantic conventions; Deno leaves them out.
    const remote = this.#info.remoteAddr;
    if (remote.transport === "tcp" || remote.transport === "udp") {
      span.setAttribute("client.address", remote.hostname);
    }
    span.setAttribute(
      "network.protocol.version",
      this.#info.httpVersion === "HTTP/1.0" ? "1.0" : "1.1",
    );
    span.setAttribute("server.address", url.hostname.replace(/^\[(.*)\]$/, "$1"));
    span.setAttribute("server.port", BigInt(url.port || (this.#scheme === "https" ? 443 : 80)));
    // Deno copies the route the app set on the span into the metrics; so does this.
    const setAttribute = span.setAttribute;
    const setAttributes = span.setAttributes;
    span.setAttribute = (key, value) => {
      if (key === "http.route") this.#route = String(value);
      return setAttribute.call(span, key, value);
    };
    if (setAttributes !== undefined) {
      span.setAttributes = (attributes) => {
        const route = attributes?.["http.route"];
        if (route !== undefined) this.#route = String(route);
        return setAttributes.call(span, attributes);
      };
    }
  }

  /** Finishes with the app's result; a failure is recorded as the 500 the engine answers. */
  settle(result: Response | Promise<Response>): Response | Promise<Response> {
    if (result instanceof Promise) {
      return result.then((response) => this.#respond(response), (error) => this.#fail(error));
    }
    return this.#respond(result);
  }

  #fail(error: unknown): never {
    this.#finish(500, "", null);
    throw error;
  }

  #respond(response: Response): Response {
    if (!(response instanceof Response)) {
      // The engine answers 500 for it.
      this.#finish(500, "", null);
      return response;
    }
    return this.#finish(response.status, response.statusText, response);
  }

  /** Ends the span and records what is known when the response head goes out. */
  #finish(status: number, statusText: string, response: Response | null): Response {
    const span = this.#span;
    if (span !== null) {
      // As ext/telemetry/util.ts updateSpanFromServerResponse: the status code as a string;
      // ERROR only for 5xx, which are the server's fault.
      span.setAttribute("http.response.status_code", String(status));
      if (status >= 500) {
        span.setAttribute("error.type", String(status));
        span.setStatus({ code: ERROR, message: statusText });
      }
      span.end();
    }
    const metrics = this.#metrics;
    if (metrics === null) return response!;
    const attributes: Record<string, unknown> = {
      "http.request.method": this.#request.method,
      "url.scheme": this.#scheme,
      "network.protocol.version": this.#info.httpVersion === "HTTP/1.0" ? "1.0" : "1.1",
      // A bigint is exported as an integer, as Deno's own `http.response.status_code` is.
      "http.response.status_code": BigInt(status),
    };
    if (this.#route !== null) attributes["http.route"] = this.#route;
    metrics.duration.record((performance.now() - this.#started) / 1000, attributes);
    metrics.requestSize.record(requestSize(this.#request), attributes);
    const done = (bytes: number) => {
      metrics.responseSize.record(bytes, attributes);
      metrics.active.add(-1, this.#counted);
    };
    if (response === null || (response as UpgradableResponse)[upgradeKey] !== undefined) {
      done(0);
      return response!;
    }
    if (this.#request.method === "HEAD" || response.body === null) {
      this.#info.completed.then(() => done(0), () => done(0));
      return response;
    }
    const parts: ResponseParts = { fields: [], contentType: null, body: null };
    if (readResponseParts(response, parts)) {
      const body = parts.body;
      const size = body === null
        ? 0
        : typeof body === "string"
        ? utf8Length(body)
        : body.byteLength;
      this.#info.completed.then(() => done(size), () => done(size));
      return response;
    }
    return countBody(response, done);
  }
}

/** `response` with its body stream counted; `done` gets the count when the body ends. */
function countBody(response: Response, done: (bytes: number) => void): Response {
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(bytes);
  };
  const counted = response.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush: finish,
      cancel: finish,
    }),
  );
  return new Response(counted, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function schemeOf(url: string): string {
  const colon = url.indexOf(":");
  return colon < 0 ? "http" : url.slice(0, colon);
}

/** The declared request body size (Deno records the size hint, Content-Length), else 0. */
function requestSize(request: Request): number {
  const length = Number(request.headers.get("content-length"));
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}
