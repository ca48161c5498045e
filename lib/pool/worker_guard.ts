/**
 * What a worker locks or removes before the app loads, so that app code (or a dependency of
 * it) cannot reach past its sandbox through the globals it shares with the worker:
 * - `Deno.exit()`, `self.close()` and `process.exit()` still work, but tell the supervisor
 *   first, so the worker is replaced at once instead of after a heartbeat timeout;
 * - `Deno.kill()` and `process.kill()` refuse the server's own process and process groups (pid
 *   0 or below) with `NotCapable`: Deno lets a worker signal its own pid without the run
 *   permission, and a SIGTERM from the app would end the server with exit 0, TTINs would grow
 *   the pool (issue 13, item 11);
 * - CacheStorage (`caches`) is removed unless the app may write everywhere: it writes to Deno's
 *   cache directory without a write permission, shared by every app on the machine (item 13);
 * - the listen functions are locked, so the app cannot capture the TLS key by replacing them.
 *
 * @module
 */

/** Makes `target[name]` a constant property holding `value`. */
function lock(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, {
    value,
    writable: false,
    configurable: false,
    enumerable: true,
  });
}

/** Whether `pid` names the server's own process or a process group (which may hold it). */
/** Pids the app may not signal besides its own process's: a process worker's supervisor. */
const serverPids = new Set<number>();

function isServerPid(pid: number): boolean {
  return pid === Deno.pid || pid <= 0 || serverPids.has(pid);
}

function refuse(pid: number): never {
  throw new Deno.errors.NotCapable(
    `the app may not signal the server's own process or a process group (pid ${pid})`,
  );
}

/** The Node-compatible `process` global, when the runtime has one. */
type NodeProcess = {
  kill?: (pid: number, signal?: unknown) => boolean;
  exit?: (code?: number) => never;
};

/** A worker's global scope, as far as the guard touches it. */
export interface WorkerScope {
  /** Ends the worker (a thread's `self.close`). */
  close?: () => void;
  /** Talks to the supervisor (a thread's `self.postMessage`). */
  postMessage?: unknown;
}

/**
 * Locks what the app could use to end or steer the server, in the worker's global `scope`.
 * `exiting(reason)` is called before the app ends the worker itself.
 *
 * @example
 * ```ts ignore
 * guardWorker(self, (reason) => runtime.exiting(reason));
 * ```
 */
export function guardWorker(
  scope: WorkerScope,
  exiting: (reason: string) => void,
  supervisorPid?: number,
): void {
  if (supervisorPid !== undefined) serverPids.add(supervisorPid);
  const exit = Deno.exit;
  const kill = Deno.kill;
  lock(Deno, "exit", function exitWorker(code?: number): never {
    exiting(`the app called Deno.exit(${code ?? ""})`);
    return exit(code);
  });
  const closeWorker = scope.close?.bind(scope);
  if (closeWorker !== undefined) {
    lock(scope, "close", function close(): void {
      exiting("the app called self.close()");
      closeWorker();
    });
  }
  lock(Deno, "kill", function signal(pid: number, signo?: Deno.Signal): void {
    if (isServerPid(pid)) refuse(pid);
    return kill(pid, signo);
  });
  const process = (globalThis as { process?: NodeProcess }).process;
  if (process !== undefined) {
    const processKill = process.kill?.bind(process);
    const processExit = process.exit?.bind(process);
    if (processKill !== undefined) {
      lock(process, "kill", function signal(pid: number, signo?: unknown): boolean {
        if (isServerPid(Number(pid))) refuse(pid);
        return processKill(pid, signo);
      });
    }
    if (processExit !== undefined) {
      lock(process, "exit", function exitWorker(code?: number): never {
        exiting(`the app called process.exit(${code ?? ""})`);
        return processExit(code);
      });
    }
  }
  if (scope.postMessage !== undefined) lock(scope, "postMessage", scope.postMessage);
  lock(Deno, "listen", Deno.listen);
  lock(Deno, "listenTls", Deno.listenTls);
  if (Deno.permissions.querySync({ name: "write" }).state !== "granted") {
    for (const name of ["caches", "CacheStorage", "Cache"]) {
      delete (globalThis as Record<string, unknown>)[name];
    }
  }
}
