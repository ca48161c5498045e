/**
 * The "Workers" options: how many workers run and when they are recycled.
 *
 * @module
 */

import { CPUS, type Spec } from "../spec.ts";
import { BYTES, COUNT, LIMIT, POSITIVE_COUNT, POSITIVE_SECONDS, SECONDS } from "../rules.ts";

/** The "Workers" section of the option table, in help order. */
export const WORKERS_SPECS: readonly Spec[] = [
  {
    kind: "choice",
    field: "isolation",
    choices: ["thread", "process"],
    names: ["isolation"],
    valueName: "KIND",
    group: "Workers",
    description:
      "thread: Web Workers in this process; process: a deno process each, killed when stuck, dying alone on heap exhaustion",
    defaultText: "thread",
  },
  {
    kind: "number",
    field: "workers",
    rule: COUNT,
    fallback: CPUS,
    names: ["workers", "max-workers"],
    valueName: "N",
    group: "Workers",
    description: "worker count; 0 serves in the main thread",
    defaultText: `number of CPUs, ${CPUS}`,
  },
  {
    kind: "boolean",
    field: "parallel",
    names: ["parallel"],
    group: "Workers",
    description: "as deno serve --parallel: DENO_JOBS workers, or one per CPU",
  },
  {
    kind: "number",
    field: "maxReqsPerChild",
    rule: LIMIT,
    fallback: Infinity,
    names: ["max-reqs-per-child", "max-requests"],
    valueName: "N",
    group: "Workers",
    description: "requests a worker serves before it is replaced; 0 or inf: never",
  },
  {
    kind: "number",
    field: "minReqsPerChild",
    rule: POSITIVE_COUNT,
    names: ["min-reqs-per-child"],
    valueName: "N",
    group: "Workers",
    description: "draw each worker's limit at random from [N, --max-reqs-per-child]",
  },
  {
    kind: "number",
    field: "spawnInterval",
    rule: SECONDS,
    fallback: 0,
    names: ["spawn-interval"],
    valueName: "SECONDS",
    group: "Workers",
    description: "pause after starting each worker, for slow starts and restarts",
  },
  {
    kind: "number",
    field: "gracefulTimeout",
    rule: SECONDS,
    fallback: 30,
    names: ["graceful-timeout"],
    valueName: "SECONDS",
    group: "Workers",
    description: "time workers get to finish in-flight requests when stopping",
  },
  {
    kind: "number",
    field: "shutdownDelay",
    rule: SECONDS,
    fallback: 0,
    names: ["shutdown-delay"],
    valueName: "SECONDS",
    group: "Workers",
    description:
      "after TERM, keep serving but answer --health-path with 503 this long, so balancers stop sending; then shut down",
  },
  {
    kind: "number",
    field: "workerTimeout",
    rule: POSITIVE_SECONDS,
    fallback: 30,
    names: ["worker-timeout"],
    valueName: "SECONDS",
    group: "Workers",
    description: "a worker silent this long (no heartbeat) counts as hung and is replaced",
  },
  {
    kind: "number",
    field: "maxWorkerMemory",
    rule: BYTES,
    fallback: 0,
    names: ["max-worker-memory"],
    valueName: "SIZE",
    group: "Workers",
    description:
      "replace a worker whose V8 heap passes SIZE (k, m, g), replacement first; 0: no limit",
  },
  {
    kind: "number",
    field: "mainProcessDelay",
    rule: SECONDS,
    fallback: 0.1,
    names: ["main-process-delay"],
    valueName: "SECONDS",
    group: "Workers",
    description: "accepted for compatibility with the Perl original",
  },
  {
    kind: "boolean",
    field: "reload",
    names: ["reload", "watch"],
    short: "r",
    group: "Workers",
    description: "restart the workers when the app's files change",
  },
];
