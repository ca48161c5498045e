/**
 * Deno's built-in OpenTelemetry, as Starlight's request telemetry reaches it: the one place that
 * knows where it lives.
 *
 * Everything goes through public API, so spans and metrics take Deno's own path to its
 * exporter (OTLP, `OTEL_*` variables) exactly as `Deno.serve`'s do:
 * - `Deno.telemetry.tracerProvider` / `meterProvider` (stable in Deno 2.9) give a tracer and a
 *   meter with the instrumentation scope `deno` at the runtime's version, the scope `Deno.serve`
 *   reports under;
 * - whether tracing and metrics are on (`OTEL_DENO=true`), and the propagators Deno was
 *   configured with (`OTEL_PROPAGATORS`), come from the registration Deno makes for the
 *   `@opentelemetry/api` package (`globalThis[Symbol.for("opentelemetry.js.api.1")]`), which
 *   holds `trace`, `metrics` and `propagation` only when they are enabled. A worker can read
 *   neither `OTEL_DENO` nor any other variable (no env permission); this needs none.
 *
 * @module
 */

/** OpenTelemetry's context: an immutable map, with the active span under {@link SPAN_KEY}. */
export interface OtelContext {
  /** A copy with `key` set. */
  setValue(key: symbol, value: unknown): OtelContext;
  /** The value under `key`. */
  getValue(key: symbol): unknown;
}

/** The parts of a span this module uses. */
export interface OtelSpan {
  /** Sets one attribute; a bigint is exported as an integer, a number as a double. */
  setAttribute(key: string, value: string | number | bigint | boolean): unknown;
  /** Sets several attributes. */
  setAttributes?(attributes: Record<string, unknown>): unknown;
  /** Sets the status: code 2 is ERROR. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Ends the span (it is exported in a batch afterwards). */
  end(): void;
  /** Whether the span records (false when sampled out). */
  isRecording(): boolean;
}

/** The parts of a tracer this module uses. */
export interface OtelTracer {
  /** Starts a span; `kind` 1 is SERVER. */
  startSpan(name: string, options: { kind: number }, context: OtelContext): OtelSpan;
}

/** A metric instrument (Deno records numbers as doubles). */
export interface OtelInstrument {
  /** Adds to a counter. */
  add?(value: number, attributes?: Record<string, unknown>): void;
  /** Records into a histogram. */
  record?(value: number, attributes?: Record<string, unknown>): void;
}

/** Options of a metric instrument. */
export interface OtelMetricOptions {
  /** What it measures. */
  description?: string;
  /** Its unit (UCUM). */
  unit?: string;
  /** Histogram bucket boundaries. */
  advice?: { explicitBucketBoundaries?: number[] };
}

/** The parts of a meter this module uses. */
export interface OtelMeter {
  /** A histogram. */
  createHistogram(
    name: string,
    options?: OtelMetricOptions,
  ): Required<Pick<OtelInstrument, "record">>;
  /** An up-down counter. */
  createUpDownCounter(
    name: string,
    options?: OtelMetricOptions,
  ): Required<Pick<OtelInstrument, "add">>;
}

/** Reads a carrier (request headers) for a propagator. */
export interface OtelGetter<C> {
  /** The value of `key`, if any. */
  get(carrier: C, key: string): string | undefined;
  /** Every key. */
  keys(carrier: C): string[];
}

/** W3C trace context / baggage propagation, as Deno configured it. */
export interface OtelPropagation {
  /** `context` with what `carrier` says (a remote parent span, baggage). */
  extract<C>(context: OtelContext, carrier: C, getter: OtelGetter<C>): OtelContext;
}

/** Running code with a context active, so the app's own spans and logs join the request's. */
export interface OtelContextManager {
  /** The active context. */
  active(): OtelContext;
  /** Calls `fn(...args)` with `context` active. */
  with<A extends unknown[], R>(
    context: OtelContext,
    fn: (...args: A) => R,
    thisArg?: unknown,
    ...args: A
  ): R;
}

/** What is on, and the handles to record with. */
export interface DenoTelemetry {
  /** The tracer of scope `deno`, or null when tracing is off. */
  readonly tracer: OtelTracer | null;
  /** The meter of scope `deno`, or null when metrics are off. */
  readonly meter: OtelMeter | null;
  /** The configured propagators, or null for none (`OTEL_PROPAGATORS=none`). */
  readonly propagation: OtelPropagation | null;
  /** The context manager. */
  readonly contextManager: OtelContextManager;
}

/** The context key of the active span, the one `@opentelemetry/api` uses (and Deno). */
export const SPAN_KEY: symbol = Symbol.for("OpenTelemetry Context Key SPAN");

/** The instrumentation scope `Deno.serve` reports under (`deno`, at the runtime version). */
export const DENO_SCOPE = "deno";

interface Registration {
  trace?: unknown;
  metrics?: unknown;
  propagation?: OtelPropagation;
}

interface DenoTelemetryApi {
  tracerProvider: { getTracer(name: string, version?: string): OtelTracer };
  meterProvider: { getMeter(name: string, version?: string): OtelMeter };
  contextManager: OtelContextManager;
}

/**
 * Deno's telemetry when tracing or metrics are enabled in this process, else null. Costs
 * nothing after the first call.
 *
 * @example
 * ```ts
 * import { denoTelemetry } from "./otel_deno.ts";
 * const telemetry = denoTelemetry();
 * console.log(telemetry === null ? "OTEL_DENO is off" : "exporting");
 * ```
 */
export function denoTelemetry(): DenoTelemetry | null {
  if (cached === undefined) cached = probe();
  return cached;
}

let cached: DenoTelemetry | null | undefined;

function probe(): DenoTelemetry | null {
  const api = (Deno as unknown as { telemetry?: DenoTelemetryApi }).telemetry;
  const registration = (globalThis as Record<symbol, unknown>)[
    Symbol.for("opentelemetry.js.api.1")
  ] as Registration | undefined;
  if (api === undefined || registration === undefined) return null;
  const tracing = registration.trace !== undefined;
  const metrics = registration.metrics !== undefined;
  if (!tracing && !metrics) return null;
  const version = Deno.version.deno;
  return {
    tracer: tracing ? api.tracerProvider.getTracer(DENO_SCOPE, version) : null,
    meter: metrics ? api.meterProvider.getMeter(DENO_SCOPE, version) : null,
    propagation: registration.propagation ?? null,
    contextManager: api.contextManager,
  };
}
