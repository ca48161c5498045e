/**
 * Where processes run. With 2 cores, the server gets one and the load generator the other, so
 * neither steals cycles from the other and runs are comparable.
 *
 * @module
 */

export const SERVER_CORE = "0";
export const CLIENT_CORE = "1";
export const BOTH_CORES = "0,1";

// 65536 descriptors when allowed, else the hard limit: containers often cap it.
const ULIMIT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';

/**
 * The argv that runs `argv` on `cores` with the open-file limit raised (10 000 connections need
 * that many descriptors). `bash -c` takes the cores as `$0` and the command as `$@`, so nothing
 * is re-quoted; `exec` keeps the pid, so the pid we hold is the server's own for /proc readings
 * and signals.
 */
export function pinned(cores: string, argv: string[]): string[] {
  return ["bash", "-c", `${ULIMIT}; exec taskset -c "$0" "$@"`, cores, ...argv];
}

/**
 * Like `pinned`, but the shell waits for the command and then prints its CPU time with the
 * `times` builtin as the last line of stderr ("0m1.234s 0m0.567s": user, system): the load
 * generator's own CPU, which says whether it was the bottleneck. Read it with `childCpu`.
 */
export function pinnedTimed(cores: string, argv: string[]): string[] {
  const script = `${ULIMIT}; taskset -c "$0" "$@"; rc=$?; times >&2; exit $rc`;
  return ["bash", "-c", script, cores, ...argv];
}

/** CPU seconds (user + system) from the `times` lines `pinnedTimed` leaves on stderr. */
export function childCpu(stderr: string): number {
  const line = stderr.trimEnd().split("\n").at(-1) ?? "";
  const match = line.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  if (!match) return NaN;
  return Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4]);
}

/** How many cores a taskset list such as "0,1" or "8-15" names. */
export function coreCount(cores: string): number {
  return cores.split(",").reduce((sum, part) => {
    const [from, to] = part.split("-").map(Number);
    return sum + (to === undefined ? 1 : to - from + 1);
  }, 0);
}

/** The stderr of a `pinnedTimed` run without its `times` lines. */
export function withoutTimes(stderr: string): string {
  return stderr.trimEnd().split("\n").slice(0, -2).join("\n");
}
