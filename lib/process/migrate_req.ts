/**
 * Linux's `net.ipv4.tcp_migrate_req`: with it, connections queued on a `reusePort` socket
 * that closes (a process worker retiring, or killed) move to another socket of the same port
 * instead of being reset. Process workers each bind their own socket, so the supervisor turns
 * it on where it may, and says so where it may not.
 *
 * @module
 */

const SYSCTL = "/proc/sys/net/ipv4/tcp_migrate_req";

/** What became of the setting: already on, turned on now, or why not. */
export type MigrateReq = { state: "on" | "enabled" } | { state: "unavailable"; reason: string };

/**
 * Turns `net.ipv4.tcp_migrate_req` on (it applies to this network namespace).
 *
 * @example
 * ```ts ignore
 * const result = enableMigrateReq();
 * if (result.state === "unavailable") console.warn(result.reason);
 * ```
 */
export function enableMigrateReq(path = SYSCTL): MigrateReq {
  try {
    if (Deno.readTextFileSync(path).trim() === "1") return { state: "on" };
    Deno.writeTextFileSync(path, "1\n");
    return { state: "enabled" };
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "this kernel has no net.ipv4.tcp_migrate_req (Linux 5.14 or later has)"
      : `net.ipv4.tcp_migrate_req cannot be set here (${(error as Error).name})`;
    return { state: "unavailable", reason };
  }
}
