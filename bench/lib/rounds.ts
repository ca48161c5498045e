/**
 * The common measurement: launch every contender, warm each up, then run interleaved rounds
 * (A B C A B C …) so that drift in the machine — thermal, page cache, a noisy neighbour — is
 * spread over all contenders instead of landing on whichever ran last.
 *
 * @module
 */

import { log } from "./log.ts";
import { CLIENT_CORE, SERVER_CORE } from "./pinning.ts";
import { coreBusySeconds, cpuTimes } from "./procfs.ts";
import type { Options } from "./scenario.ts";
import { type Contender, launch, type Server } from "./servers.ts";
import { count } from "./table.ts";
import { type Load, runWrk, type WrkResult } from "./wrk.ts";

/** One measured wrk run and the server CPU it cost. */
export interface Sample {
  wrk: WrkResult;
  /** How long wrk ran. */
  seconds: number;
  /** Server CPU seconds over the run: every process and thread of it, user and system. */
  user: number;
  system: number;
  /**
   * CPU seconds that other processes took on the server's core during the run (steal included),
   * when the server has a core of its own: how disturbed the sample is.
   */
  otherSeconds?: number;
}

/** A contender's samples, or why it has none (or stopped having them). */
export interface Outcome {
  label: string;
  column?: string;
  samples: Sample[];
  failure?: string;
}

/** `taskset` core lists for the servers and for wrk. */
export interface Placement {
  serverCores: string;
  clientCores: string;
}

export async function measure(
  contenders: Contender[],
  load: Load,
  options: Options,
  placement: Placement = { serverCores: SERVER_CORE, clientCores: CLIENT_CORE },
): Promise<Outcome[]> {
  const outcomes: Outcome[] = contenders.map((c) => ({
    label: c.label,
    column: c.column,
    samples: [],
  }));
  const servers = new Map<Outcome, Server>();
  const ownCore = /^\d+$/.test(placement.serverCores) ? placement.serverCores : undefined;
  const fail = async (outcome: Outcome, error: unknown) => {
    outcome.failure = error instanceof Error ? error.message : String(error);
    log(`  ${outcome.label}: n/a (${outcome.failure})`);
    await servers.get(outcome)?.stop();
    servers.delete(outcome);
  };

  try {
    // All are started up front and idle between their turns: an idle server costs nothing.
    for (const [i, contender] of contenders.entries()) {
      try {
        servers.set(outcomes[i], await launch(contender, placement.serverCores));
      } catch (e) {
        await fail(outcomes[i], e);
      }
    }
    for (const [outcome, server] of servers) {
      try {
        await runWrk(server.port, load, options.warmup, placement.clientCores);
      } catch (e) {
        await fail(outcome, e);
      }
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const [outcome, server] of servers) {
        try {
          const busyBefore = ownCore ? coreBusySeconds(ownCore) : 0;
          const before = cpuTimes(server.pid);
          const wrk = await runWrk(server.port, load, options.duration, placement.clientCores);
          const after = cpuTimes(server.pid);
          const user = after.user - before.user;
          const system = after.system - before.system;
          const otherSeconds = ownCore
            ? coreBusySeconds(ownCore) - busyBefore - user - system
            : undefined;
          const seconds = wrk.seconds || options.duration;
          outcome.samples.push({ wrk, seconds, user, system, otherSeconds });
          log(
            `  round ${round}/${options.rounds} ${outcome.label}: ${count(wrk.rps)} req/s, ` +
              `${((user + system) / wrk.requests * 1e6).toFixed(2)} µs CPU/req, ` +
              `wrk ${Math.round(wrk.clientBusy * 100)} %`,
          );
        } catch (e) {
          await fail(outcome, e);
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
  return outcomes;
}
