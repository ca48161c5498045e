/**
 * The server's figures for `--metrics-listen`: a snapshot of the pool, as Prometheus text
 * (exposition format 0.0.4) for `/metrics` and as JSON for `/status`, in the manner of Puma's
 * control app or Plack's ServerStatus::Lite. Pure: the snapshot is taken by the supervisor (or
 * the in-process server) and only formatted here.
 *
 * @module
 */

/** One worker's figures. */
export interface WorkerMetrics {
  /** Its number, unique for the server's life. */
  readonly id: number;
  /** `starting`, `serving`, `limited` (to be replaced) or `retiring`. */
  readonly state: string;
  /** Requests it started. */
  readonly requests: number;
  /** Responses it sent, by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly responses: readonly number[];
  /** Connections open now. */
  readonly connections: number;
  /** Seconds since it started. */
  readonly uptime: number;
  /** V8 heap in use, in bytes. */
  readonly heap: number;
}

/** The whole server's figures. */
export interface ServerMetrics {
  /** Seconds since the server started. */
  readonly uptime: number;
  /** Workers started after the first ones: replacements, restarts, recycling. */
  readonly restarts: number;
  /** Workers that crashed or ended without being asked. */
  readonly crashes: number;
  /** Requests started by every worker there has been (never decreases). */
  readonly requests: number;
  /** Responses sent by every worker there has been, by status class (never decreases). */
  readonly responses: readonly number[];
  /** The live workers. */
  readonly workers: readonly WorkerMetrics[];
}

const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/**
 * Requests a worker has in flight: started and not yet answered. Clamped at 0, since the two
 * counts are reported at slightly different moments.
 *
 * @example
 * ```ts
 * import { inFlight } from "./metrics.ts";
 * inFlight({ requests: 10, responses: [0, 8, 0, 1, 0] }); // 1
 * ```
 */
export function inFlight(worker: Pick<WorkerMetrics, "requests" | "responses">): number {
  const answered = worker.responses.reduce((sum, n) => sum + n, 0);
  return Math.max(0, worker.requests - answered);
}

/**
 * The snapshot in Prometheus text format, one family per figure, one sample per worker.
 *
 * @example
 * ```ts
 * import { prometheusText } from "./metrics.ts";
 * prometheusText({
 *   uptime: 5,
 *   restarts: 0,
 *   crashes: 0,
 *   requests: 0,
 *   responses: [0, 0, 0, 0, 0],
 *   workers: [],
 * });
 * // "# HELP starlight_uptime_seconds …\n# TYPE starlight_uptime_seconds gauge\nstarlight_uptime_seconds 5\n…"
 * ```
 */
export function prometheusText(metrics: ServerMetrics): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const perWorker = (value: (worker: WorkerMetrics) => number): [string, number][] =>
    metrics.workers.map((worker) => [`{worker="${worker.id}"}`, value(worker)]);
  family("starlight_uptime_seconds", "gauge", "Seconds since the server started.", [[
    "",
    metrics.uptime,
  ]]);
  family("starlight_workers", "gauge", "Live workers.", [["", metrics.workers.length]]);
  family(
    "starlight_worker_restarts_total",
    "counter",
    "Workers started after the first ones (replacements, restarts, recycling).",
    [["", metrics.restarts]],
  );
  family(
    "starlight_worker_crashes_total",
    "counter",
    "Workers that crashed or ended without being asked.",
    [["", metrics.crashes]],
  );
  family(
    "starlight_server_requests_total",
    "counter",
    "Requests started by every worker there has been.",
    [["", metrics.requests]],
  );
  family(
    "starlight_server_responses_total",
    "counter",
    "Responses sent by every worker there has been, per status class.",
    CLASSES.map((code, i): [string, number] => [`{code="${code}"}`, metrics.responses[i] ?? 0]),
  );
  family(
    "starlight_requests_total",
    "counter",
    "Requests started, per live worker.",
    perWorker((w) => w.requests),
  );
  family(
    "starlight_responses_total",
    "counter",
    "Responses sent, per live worker and status class.",
    metrics.workers.flatMap((worker) =>
      CLASSES.map((code, i): [string, number] => [
        `{worker="${worker.id}",code="${code}"}`,
        worker.responses[i] ?? 0,
      ])
    ),
  );
  family(
    "starlight_requests_in_flight",
    "gauge",
    "Requests started and not yet answered, per worker.",
    perWorker(inFlight),
  );
  family(
    "starlight_open_connections",
    "gauge",
    "Open client connections, per worker.",
    perWorker((w) => w.connections),
  );
  family(
    "starlight_worker_uptime_seconds",
    "gauge",
    "Seconds since the worker started.",
    perWorker((w) => w.uptime),
  );
  family(
    "starlight_worker_heap_bytes",
    "gauge",
    "V8 heap in use, per worker.",
    perWorker((w) => w.heap),
  );
  return lines.join("\n") + "\n";
}

/**
 * The snapshot as the `/status` JSON document: the server's figures, then each worker's with
 * its responses by class and its requests in flight.
 *
 * @example
 * ```ts
 * import { statusJson } from "./metrics.ts";
 * const empty = { uptime: 5, restarts: 0, crashes: 0, requests: 0, responses: [0, 0, 0, 0, 0] };
 * JSON.parse(statusJson({ ...empty, workers: [] })).workers; // []
 * ```
 */
export function statusJson(metrics: ServerMetrics): string {
  return JSON.stringify({
    uptime: metrics.uptime,
    restarts: metrics.restarts,
    crashes: metrics.crashes,
    requests: metrics.requests,
    responses: Object.fromEntries(CLASSES.map((code, i) => [code, metrics.responses[i] ?? 0])),
    workers: metrics.workers.map((worker) => ({
      id: worker.id,
      state: worker.state,
      requests: worker.requests,
      inFlight: inFlight(worker),
      responses: Object.fromEntries(CLASSES.map((code, i) => [code, worker.responses[i] ?? 0])),
      connections: worker.connections,
      uptime: worker.uptime,
      heap: worker.heap,
    })),
  });
}
