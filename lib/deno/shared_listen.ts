/**
 * A TCP listener whose accept queue several workers share: Deno's undocumented `loadBalanced`
 * listen option (what `deno serve --parallel` uses; not in Deno's type declarations). Each
 * listener opened with it on the same address joins one accept queue, even after the process
 * dropped the privilege to bind the port (the descriptor is shared, nothing is bound again).
 *
 * Whether the runtime honours the option is read once from `Deno.listen`'s own source (no
 * socket needed, so it works in a worker without net permission). Where it does not, the
 * listener falls back to `reusePort` (SO_REUSEPORT, public but `--unstable-net`): every worker
 * gets a queue of its own, which the kernel balances, and a restart can reset the connections
 * queued on a closing listener. {@link loadBalancedActive} says which; the worker reports it.
 *
 * @module
 */

const honoured = /\bloadBalanced\b/.test(String(Deno.listen));

/** Whether `Deno.listen` honours `loadBalanced` on this runtime (the fast path). */
export function loadBalancedActive(): boolean {
  return honoured;
}

/**
 * Opens `options` as a listener that shares one accept queue with every other one opened so on
 * the same address (see the module comment for the fallback).
 *
 * @example
 * ```ts ignore
 * import { listenShared } from "./shared_listen.ts";
 * const anchor = listenShared({ hostname: "0.0.0.0", port: 8080 });
 * ```
 */
export function listenShared(options: Deno.TcpListenOptions): Deno.TcpListener {
  const shared = honoured ? { ...options, loadBalanced: true } : { ...options, reusePort: true };
  return Deno.listen(shared as Deno.TcpListenOptions);
}
