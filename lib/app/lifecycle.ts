/**
 * The app's lifecycle around `fetch`: `onListen` when its worker listens, and a way to release
 * resources (a database pool, a KV handle, timers) when its worker stops.
 *
 * - `onListen(addr)`, from the `deno serve` contract, is called by every worker once it listens,
 *   with each address it serves, before it takes a request. `deno serve --parallel` calls it
 *   once, in the main thread only, because only the main thread's isolate runs `onListen`
 *   there; Starlight runs no app code in the main thread, and each worker has its own copy of
 *   the app's module state, which `onListen` may set up. An error it throws fails the worker's
 *   start, as it ends `deno serve`.
 * - `onStop({ reason, signal })`, a Starlight addition to the default export, is awaited when
 *   the worker stops — recycled (restart, request limit, crash, fewer workers) or shut down —
 *   after its last connection has closed, so requests in flight can still use what it closes.
 *   Stopping, draining included, is bounded by `--graceful-timeout`: `onStop` may take what
 *   remains of it, and connections still open are cut up to {@link STOP_RESERVE_MS} early (at
 *   most half the timeout) so that it has that much at least. At the deadline `signal` aborts
 *   and the worker ends anyway. A method of the default export, because that is
 *   where the contract keeps the app's lifecycle (`onListen`), it needs no import of Starlight,
 *   and `deno serve` ignores it.
 * - Then the `unload` event fires on `globalThis`, as it does when a plain Deno program ends
 *   (Deno fires none when a worker is closed): `addEventListener("unload", …)` works the same
 *   under `deno serve` and Starlight, for synchronous clean-up.
 *
 * @module
 */

import { isRelaySpec, type ListenSpec } from "../listen/spec.ts";
import { AppError } from "./errors.ts";

/**
 * Why the app's worker stops: `recycle` (a fresh worker replaces it) or `shutdown`.
 *
 * @example
 * ```ts
 * import type { StopReason } from "@x/starlight";
 * const final = (reason: StopReason): boolean => reason === "shutdown";
 * ```
 */
export type StopReason = "recycle" | "shutdown";

/**
 * What `onStop` is given.
 *
 * @example
 * ```ts
 * import type { StopInfo } from "@x/starlight";
 * export default {
 *   fetch: () => new Response("hi"),
 *   async onStop({ signal }: StopInfo) {
 *     await fetch("http://127.0.0.1:9/deregister", { method: "POST", signal }).catch(() => {});
 *   },
 * };
 * ```
 */
export interface StopInfo {
  /** `recycle`: a fresh worker replaces this one; `shutdown`: the server stops. */
  readonly reason: StopReason;
  /** Aborts at the deadline, after which the worker ends whether `onStop` settled or not. */
  readonly signal: AbortSignal;
}

/**
 * The lifecycle hooks an app's default export may have next to `fetch`.
 *
 * @example
 * ```ts
 * import type { AppHooks } from "@x/starlight";
 * const hooks: AppHooks = {
 *   onListen: (addr) => console.log("listening", addr),
 *   onStop: async () => {},
 * };
 * ```
 */
export interface AppHooks {
  /** Called once the worker listens, with each address it serves (`deno serve`'s contract). */
  onListen?: (addr: Deno.Addr) => void;
  /** Awaited when the worker stops, after its last connection has closed. */
  onStop?: (info: StopInfo) => void | Promise<void>;
}

/** Time kept back from draining for `onStop`: connections are cut this much before the deadline. */
export const STOP_RESERVE_MS = 1000;

/** What a stop leaves before the deadline, for the worker to report that it is done. */
const STOP_MARGIN_MS = 50;

/**
 * How long before `deadline` (ms since the epoch) a stop cuts the connections still open, so
 * that `onStop` keeps time of its own: {@link STOP_RESERVE_MS}, at most half the time left, and
 * nothing for an app without `onStop`.
 *
 * @example
 * ```ts
 * import { stopReserve } from "./lifecycle.ts";
 * stopReserve({ onStop() {} }, 30_000, 0); // 1000
 * stopReserve({ onStop() {} }, 1_000, 0); // 500
 * stopReserve({}, 30_000, 0); // 0
 * ```
 */
export function stopReserve(hooks: AppHooks, deadline: number, now: number = Date.now()): number {
  if (hooks.onStop === undefined) return 0;
  return Math.max(0, Math.min(STOP_RESERVE_MS, (deadline - now) / 2));
}

/**
 * The hooks of an app value (a default export); none for a bare handler function.
 *
 * @throws {AppError} when `onListen` or `onStop` is there but not a function (`deno serve`
 * refuses such an `onListen` too).
 * @example
 * ```ts
 * import { appHooks } from "./lifecycle.ts";
 * appHooks({ fetch: () => new Response(""), onListen() {} }, "app.ts").onListen !== undefined; // true
 * ```
 */
export function appHooks(app: unknown, where: string): AppHooks {
  if (app === null || typeof app !== "object") return {};
  const hooks: AppHooks = {};
  for (const name of ["onListen", "onStop"] as const) {
    const hook = (app as Record<string, unknown>)[name];
    if (hook === undefined) continue;
    if (typeof hook !== "function") {
      throw new AppError(`${where}: ${name} must be a function, not ${typeof hook}`);
    }
    hooks[name] = (...args: unknown[]) => hook.apply(app, args);
  }
  return hooks;
}

/**
 * The addresses a worker serves, as `Deno.Addr` (what `onListen` gets): its TCP listeners, and
 * for the loopback listener that relays UNIX and abstract sockets, those sockets (an abstract
 * one as Deno writes it, with a leading NUL).
 *
 * @example
 * ```ts
 * import { servedAddresses } from "./lifecycle.ts";
 * servedAddresses([{ kind: "tcp", hostname: "0.0.0.0", port: 8080 }]);
 * // [{ transport: "tcp", hostname: "0.0.0.0", port: 8080 }]
 * ```
 */
export function servedAddresses(specs: readonly ListenSpec[]): Deno.Addr[] {
  return specs.flatMap((spec) => isRelaySpec(spec) ? spec.relay.routes : [spec]).map(toAddr);
}

function toAddr(spec: ListenSpec): Deno.Addr {
  switch (spec.kind) {
    case "tcp":
      return { transport: "tcp", hostname: spec.hostname, port: spec.port };
    case "unix":
      return { transport: "unix", path: spec.path };
    case "abstract":
      return { transport: "unix", path: `\0${spec.name}` };
  }
}

/**
 * Calls `onListen` with each address.
 *
 * @throws {AppError} naming the app when `onListen` throws: the worker does not start.
 */
export function callOnListen(hooks: AppHooks, addresses: Deno.Addr[], where: string): void {
  if (hooks.onListen === undefined) return;
  for (const addr of addresses) {
    try {
      hooks.onListen(addr);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new AppError(`${where}: onListen threw: ${detail}`);
    }
  }
}

/**
 * Stops the app: awaits `onStop` until just before `deadline` (ms since the epoch), then, with
 * `unload`, fires the `unload` event on `globalThis`. Never throws: a failing or late hook is
 * reported through `report`.
 *
 * @example
 * ```ts ignore
 * await stopApp(hooks, "shutdown", Date.now() + 30_000, true, (message) => console.warn(message));
 * ```
 */
export async function stopApp(
  hooks: AppHooks,
  reason: StopReason,
  deadline: number,
  unload: boolean,
  report: (message: string, error?: unknown) => void,
): Promise<void> {
  if (hooks.onStop !== undefined) {
    const budget = Math.max(0, deadline - STOP_MARGIN_MS - Date.now());
    const cut = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => {
        cut.abort(new DOMException("the graceful timeout has passed", "TimeoutError"));
        resolve("late");
      }, budget);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve().then(() => hooks.onStop!({ reason, signal: cut.signal })),
        late,
      ]);
      if (outcome === "late") report(`onStop did not finish within ${budget} ms; stopping anyway`);
    } catch (error) {
      report("onStop failed", error);
    } finally {
      clearTimeout(timer);
    }
  }
  if (unload) {
    try {
      globalThis.dispatchEvent(new Event("unload"));
    } catch (error) {
      report("an unload listener failed", error);
    }
  }
}
