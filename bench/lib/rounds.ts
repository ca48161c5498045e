/**
 * The common measurement: launch every contender, warm each up, then run interleaved rounds
 * (A B C A B C …) so that drift in the machine — thermal, page cache, a noisy neighbour — is
 * spread over all contenders instead of landing on whichever ran last.
 *
 * @module
 */

import { cpuSeconds } from "./procfs.ts";
import type { Options } from "./scenario.ts";
import { type Contender, launch, type Server } from "./servers.ts";
import { type Load, runWrk, type WrkResult } from "./wrk.ts";
import { count } from "./table.ts";
import { CLIENT_CORE, SERVER_CORE } from "./pinning.ts";

/** One measured wrk run and the server CPU it cost. */
export interface Sample {
  wrk: WrkResult;
  cpuSeconds: number;
}

/** A contender's samples, or why it has none (or stopped having them). */
export interface Outcome {
  label: string;
  samples: Sample[];
  failure?: string;
}

export interface Placement {
  serverCores: string;
  clientCores: string;
  /** Overrides `options.duration`, for scenarios that need longer runs. */
  duration?: number;
}

export async function measure(
  contenders: Contender[],
  load: Load,
  options: Options,
  placement: Placement = { serverCores: SERVER_CORE, clientCores: CLIENT_CORE },
): Promise<Outcome[]> {
  const outcomes: Outcome[] = contenders.map((c) => ({ label: c.label, samples: [] }));
  const servers = new Map<Outcome, Server>();
  const duration = placement.duration ?? options.duration;
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
          const before = cpuSeconds(server.pid);
          const wrk = await runWrk(server.port, load, duration, placement.clientCores);
          outcome.samples.push({ wrk, cpuSeconds: cpuSeconds(server.pid) - before });
          log(`  round ${round}/${options.rounds} ${outcome.label}: ${count(wrk.rps)} req/s`);
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

/** Progress goes to stderr so that stdout is the report alone. */
export function log(message: string): void {
  console.error(message);
}
