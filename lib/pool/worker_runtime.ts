/**
 * What a worker does, whatever carries its messages: loads the app, opens its listeners, serves,
 * answers heartbeats with its request count and heap, reports crashes, and leaves when the
 * supervisor retires it. The transport is a {@link WorkerChannel}: `postMessage` for a thread
 * (`thread_worker.ts`); a process entry (issue 15) would frame the same messages on stdio.
 *
 * @module
 */

import { AppError, loadApp, type LoadedApp } from "../app/load.ts";
import { describeAppError } from "../app/errors.ts";
import { callOnListen, servedAddresses, stopApp, stopReserve } from "../app/lifecycle.ts";
import { setRetireHook } from "../app/retire.ts";
import { formatAccessLine } from "../observe/access_log.ts";
import { setReasonPhrases } from "../http/status.ts";
import { boundSpec, listenerScheme, openListener, sharesAcceptQueue } from "../listen/open.ts";
import { WrappedListener } from "../listen/wrapped_listener.ts";
import { withProxyProtocol } from "../listen/proxy_listener.ts";
import { withCompression } from "../app/compress.ts";
import { setDefaultMaxMessageSize } from "../websocket/upgrade.ts";
import { withDenoUpgrade } from "../websocket/deno_upgrade.ts";
import { withTelemetry } from "../observe/otel.ts";
import { markNativeEngine } from "../engine/native/websocket.ts";
import { nativeServeProblem } from "../deno/serve_http.ts";
import { fallbackWarning, fastPaths } from "../deno/fast_paths.ts";
import { FairShare } from "./balance.ts";
import { type WorkerEngine, workerEngine } from "./engine_calls.ts";
import { gracefulStop, SHUTDOWN_GRACE } from "../engine/graceful_stop.ts";
import { describeError } from "../log.ts";
import { type FromWorker, type RetireMode, type ToWorker, type WorkerConfig } from "./protocol.ts";

/** How the runtime reaches the supervisor. */
export interface WorkerChannel {
  /** Sends a message (dropped once the supervisor has let this worker go). */
  post(message: FromWorker): void;
  /** Ends this worker, after its last message. */
  close(): void;
}

/**
 * One line for a crash: the error's name and message, and where it was thrown (its first stack
 * frame).
 *
 * @example
 * ```ts
 * import { crashLine } from "./worker_runtime.ts";
 * crashLine("uncaught", new Error("boom")); // "uncaught Error: boom (at file:///…:3:27)"
 * ```
 */
export function crashLine(kind: string, error: unknown): string {
  const frame = error instanceof Error
    ? error.stack?.split("\n").find((line) => line.trimStart().startsWith("at "))
    : undefined;
  const where = frame === undefined ? "" : ` (${frame.trim()})`;
  return `${kind} ${describeError(error)}${where}`;
}

/**
 * A worker's life, driven by the supervisor's messages.
 *
 * @example
 * ```ts ignore
 * const runtime = new WorkerRuntime(channel, () => Deno.memoryUsage().heapUsed);
 * self.addEventListener("message", (event) => runtime.receive(event.data));
 * ```
 */
export class WorkerRuntime {
  readonly #channel: WorkerChannel;
  readonly #heap: () => number;
  #engine: WorkerEngine | undefined;
  #share: FairShare | undefined;
  #started = false;
  #retiring = false;
  /** Told the server will shut down before its engine existed. */
  #unhealthy = false;
  /** Aborts when a shutdown overtakes a recycle: idle connections then close at once. */
  readonly #drainNow = new AbortController();
  /** The accept loops; each ends once its listener is closed. */
  readonly #loops: Promise<void>[] = [];
  #keepaliveTimeout = 0;
  /** The app, once loaded: its hooks run when the worker retires. */
  #app: LoadedApp | undefined;
  readonly #denials = new Set<string>();

  /** `heap()` measures this worker's V8 heap in use. */
  constructor(channel: WorkerChannel, heap: () => number) {
    this.#channel = channel;
    this.#heap = heap;
  }

  /** Requests started so far. */
  get requests(): number {
    return this.#engine?.requests ?? 0;
  }

  /** A message from the supervisor. */
  receive(message: ToWorker): void {
    switch (message?.type) {
      case "start":
        if (this.#started) return;
        this.#started = true;
        this.#start(message.config);
        return;
      case "ping":
        this.#channel.post({
          type: "pong",
          seq: message.seq,
          requests: this.requests,
          heap: this.#heap(),
          connections: this.#engine?.connections ?? 0,
          responses: [...(this.#engine?.responses ?? [0, 0, 0, 0, 0])],
        });
        return;
      case "unhealthy":
        this.#engine?.markUnhealthy();
        this.#unhealthy = true;
        return;
      case "retire":
        if (this.#retiring) {
          if (message.mode === "drain") this.#drainNow.abort();
          return;
        }
        this.#retiring = true;
        this.#retire(message.mode, message.within);
    }
  }

  /**
   * Catches what the app leaves uncaught in `scope` (the worker's global): an error or an
   * unhandled rejection is handled, so the worker goes on (ending it would end every request
   * it serves), and reported; the supervisor replaces the worker.
   */
  catchUncaught(scope: EventTarget): void {
    const crashed = (kind: "uncaught" | "unhandled rejection:", error: unknown) =>
      this.#channel.post({
        type: "crashed",
        reason: crashLine(kind, error),
        requests: this.requests,
      });
    scope.addEventListener("error", (event) => {
      event.preventDefault();
      const error = event as ErrorEvent;
      crashed("uncaught", error.error ?? error.message);
    });
    scope.addEventListener("unhandledrejection", (event) => {
      event.preventDefault();
      crashed("unhandled rejection:", (event as PromiseRejectionEvent).reason);
    });
  }

  /** The app ends the worker now (`Deno.exit()`, `self.close()`): the supervisor hears first. */
  exiting(reason: string): void {
    this.#channel.post({ type: "exiting", reason, requests: this.requests });
  }

  #warn = (message: string, error?: unknown): void => {
    // A sandboxed app that oversteps fails the same way on every request: name it once.
    if (error instanceof Deno.errors.NotCapable) {
      if (this.#denials.has(error.message)) return;
      this.#denials.add(error.message);
      message = `permission denied to the app: ${error.message}`;
    } else if (error !== undefined) {
      message += `: ${describeAppError(error)}`;
    }
    this.#channel.post({ type: "log", level: "warning", message });
  };

  async #start(config: WorkerConfig): Promise<void> {
    const post = (message: FromWorker) => this.#channel.post(message);
    if (Number.isFinite(config.maxWsMessage)) setDefaultMaxMessageSize(config.maxWsMessage);
    setReasonPhrases(config.reasonPhrases);
    let app: LoadedApp;
    try {
      app = this.#app = await loadApp(config.app);
    } catch (error) {
      const message = error instanceof AppError ? error.message : describeError(error);
      return post({ type: "failed", message });
    }
    if (this.#retiring) return;
    const native = config.engine === "native";
    if (native) {
      const problem = nativeServeProblem();
      if (problem !== undefined) return post({ type: "failed", message: problem });
      markNativeEngine();
    }
    // Deno's engine has its own telemetry and its own WebSocket upgrade.
    const served = config.compress ? withCompression(app.handler) : app.handler;
    const handler = native ? served : withTelemetry(withDenoUpgrade(served));
    const engine = workerEngine(handler, config, {
      onRetire: (reason) => {
        if (!this.#retiring) post({ type: "retire", reason });
      },
      warn: this.#warn,
      access: config.accessLog
        ? (entry) => post({ type: "access", line: formatAccessLine(entry) })
        : undefined,
    });
    const listeners: Deno.Listener[] = [];
    try {
      for (const spec of config.listeners) {
        const opened = openListener(spec, config.listenMode);
        const listener = config.proxyProtocol && spec.kind === "tcp"
          ? withProxyProtocol(opened, config.headerTimeout, this.#warn)
          : opened;
        listeners.push(listener);
        const bound = boundSpec(spec, listener);
        if (bound.kind === "tcp" && spec.kind === "tcp" && bound.port !== spec.port) {
          throw new Error(`listening on port ${bound.port} instead of ${spec.port}`);
        }
      }
    } catch (error) {
      for (const listener of listeners) listener.close();
      return post({ type: "failed", message: `cannot listen: ${describeError(error)}` });
    }
    try {
      callOnListen(app.hooks, servedAddresses(config.listeners), app.where);
    } catch (error) {
      for (const listener of listeners) listener.close();
      return post({ type: "failed", message: (error as Error).message });
    }
    this.#engine = engine;
    if (this.#unhealthy) engine.markUnhealthy();
    this.#keepaliveTimeout = config.keepaliveTimeout;
    const share = config.balance === undefined
      ? undefined
      : new FairShare(config.balance, () => engine.connections);
    this.#share = share;
    setRetireHook(() => engine.retire("app"));
    listeners.forEach((listener, i) => {
      const spec = config.listeners[i];
      const gated = share !== undefined && sharesAcceptQueue(spec, config.listenMode)
        ? new WrappedListener(listener, (conn) => conn, () => share.allows())
        : listener;
      this.#loops.push(
        engine.serve(gated, listenerScheme(spec)).catch((error) =>
          this.#warn("accept loop failed", error)
        ),
      );
    });
    post({ type: "listening" });
    const fallback = fallbackWarning(fastPaths());
    if (fallback !== undefined) post({ type: "log", level: "warning", message: fallback });
  }

  async #retire(mode: RetireMode, within: number): Promise<void> {
    const engine = this.#engine;
    const app = this.#app;
    const until = Date.now() + within;
    let cut = 0;
    if (engine !== undefined) {
      // Connections still open are cut a little early where the app's onStop needs time too.
      const reserve = app === undefined ? 0 : stopReserve(app.hooks, until);
      if (mode === "drain") engine.markUnhealthy();
      cut = await gracefulStop(engine, {
        cutAfter: within - reserve,
        // Recycling leaves idle keep-alive connections until their keep-alive timeout unless
        // their client sends one more request first; no connection becomes idle after the
        // stop (every response says close), so what remains then is requests in flight and
        // WebSockets finishing their close handshake, both of which draining lets end.
        // Shutting down, an idle connection gets a short grace instead: a request its client
        // sent as the signal came is answered (with `Connection: close`), not reset.
        grace: mode === "recycle" ? this.#keepaliveTimeout + 250 : SHUTDOWN_GRACE,
        signal: this.#drainNow.signal,
        stoppedAccepting: async () => {
          this.#share?.leave();
          // An accept that completed just as the listener closed is handed to its loop a
          // moment later; once the loops have ended, every accepted connection is known and
          // gets served (draining at once would close it unanswered).
          await Promise.all(this.#loops);
          this.#channel.post({ type: "closed" });
        },
      });
    }
    if (app !== undefined) {
      await stopApp(app.hooks, mode === "drain" ? "shutdown" : "recycle", until, true, this.#warn);
    }
    this.#channel.post({
      type: "retired",
      cut,
      requests: this.requests,
      responses: [...(engine?.responses ?? [0, 0, 0, 0, 0])],
    });
    this.#channel.close();
  }
}
