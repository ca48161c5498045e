/**
 * Where processes run. With 2 cores, the server gets one and the load generator the other, so
 * neither steals cycles from the other and runs are comparable.
 *
 * @module
 */

export const SERVER_CORE = "0";
export const CLIENT_CORE = "1";
export const BOTH_CORES = "0,1";

/**
 * The argv that runs `argv` on `cores` with the open-file limit raised (10 000 connections need
 * that many descriptors). 65536 when allowed, else the hard limit: containers often cap it.
 * `bash -c` takes the cores as `$0` and the command as `$@`, so nothing is re-quoted; `exec`
 * keeps the pid, so the pid we hold is the server's own for /proc readings and signals.
 */
export function pinned(cores: string, argv: string[]): string[] {
  const script =
    'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c "$0" "$@"';
  return ["bash", "-c", script, cores, ...argv];
}
