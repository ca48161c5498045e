/**
 * Rolling restarts under load: SIGHUP a server a few times while wrk runs, and count what the
 * clients lost.
 *
 * @module
 */

import { log } from "./log.ts";
import type { Server } from "./servers.ts";
import { type Load, runWrk, type WrkResult } from "./wrk.ts";

/** Requests a run lost: failed responses plus every kind of socket error wrk saw. */
export function lost(r: WrkResult): number {
  const e = r.socketErrors;
  return r.non2xx + e.connect + e.read + e.write + e.timeout;
}

/** wrk's errors as "connect/read/write/timeout". */
export function socketErrors(r: WrkResult): string {
  const e = r.socketErrors;
  return `${e.connect}/${e.read}/${e.write}/${e.timeout}`;
}

/**
 * Runs `load` on `server` for `seconds` and sends SIGHUP `hups` times, evenly spaced, so each
 * restart has settled before the next and before wrk stops.
 */
export async function hupsUnderLoad(
  server: Server,
  hups: number,
  seconds: number,
  cores: string,
  load: Load = { connections: 50 },
): Promise<WrkResult> {
  const timers = Array.from({ length: hups }, (_, i) =>
    setTimeout(() => {
      log(`  ${server.label}: SIGHUP ${i + 1}/${hups}`);
      // A dead server shows as wrk's connect errors.
      server.signal("SIGHUP");
    }, (seconds * 1000 * (i + 1)) / (hups + 1)));
  try {
    return await runWrk(server.port, load, seconds, cores);
  } finally {
    timers.forEach(clearTimeout);
  }
}
