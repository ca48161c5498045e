/**
 * Stand-in workers and pools for the policy's unit tests: plain values, no thread, no clock.
 *
 * @module
 */

import type { WorkerView } from "../../lib/pool/handle.ts";
import {
  type Action,
  NO_BACKOFF,
  type PolicyConfig,
  type PoolSnapshot,
} from "../../lib/pool/policy.ts";

/** A worker spawned at 0 that has not listened yet; `fields` override. */
export function worker(id: number, fields: Partial<WorkerView> = {}): WorkerView {
  return {
    id,
    state: "starting",
    spawnedAt: 0,
    servingAt: undefined,
    lastSeen: 0,
    requests: 0,
    heap: 0,
    crash: undefined,
    cause: undefined,
    outgoing: false,
    mode: undefined,
    retireDeadline: Infinity,
    closed: false,
    ...fields,
  };
}

/** A worker serving since 0 with requests behind it. */
export function serving(id: number, fields: Partial<WorkerView> = {}): WorkerView {
  return worker(id, { state: "serving", servingAt: 0, requests: 10, ...fields });
}

/** A pool of two wanted workers with `fields` overriding. */
export function pool(fields: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return {
    desired: 2,
    launching: false,
    stopping: false,
    workers: [],
    lastSpawn: -Infinity,
    lastCrashReplacement: -Infinity,
    backoff: NO_BACKOFF,
    restart: undefined,
    ...fields,
  };
}

/** No spawn interval, the default timeouts, no memory limit. */
export const config: PolicyConfig = {
  spawnInterval: 0,
  workerTimeout: 30_000,
  startTimeout: 60_000,
  maxWorkerMemory: Infinity,
};

/** The actions of one type. */
export function only<T extends Action["type"]>(
  actions: Action[],
  type: T,
): Extract<Action, { type: T }>[] {
  return actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
}
