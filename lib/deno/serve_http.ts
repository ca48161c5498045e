/**
 * Deno's own HTTP engine (the one behind `Deno.serve`) on a connection that our code accepted:
 * `Deno[Deno.internal].serveHttpOnConnection(conn, signal, handler, onError, onListen)`, from
 * Deno's `ext/http/00_serve.ts`. It is what `--engine native` runs on each connection a worker
 * accepts, so that accepting, fair share, draining and everything around it stay Starlight's.
 *
 * The function is internal and not in Deno's type declarations. It is looked up once, when this
 * module loads; {@link nativeServeProblem} says in one line why it cannot be used on this
 * runtime, and the server refuses `--engine native` at start-up with that line. There is no
 * public fallback that serves one accepted connection, so unlike the other internals here the
 * fallback is the TypeScript engine, chosen by the operator.
 *
 * @module
 */

/** The handler Deno's engine calls, as `Deno.serve`'s. */
export type NativeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr | Deno.UnixAddr>,
) => Response | Promise<Response>;

/** One connection served by Deno's engine. */
export interface NativeHttp {
  /** Settles once the connection has ended (never rejects: a client reset is an end too). */
  readonly finished: Promise<void>;
  /**
   * Graceful end: the request in flight is answered, then the connection closes; an idle one
   * closes at once.
   */
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: NativeHandler,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: (scheme: unknown) => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

const internal = Object.getOwnPropertySymbols(Deno).find((s) => s.description === "Deno.internal");
const internals = internal === undefined
  ? undefined
  : (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[internal];
const candidate = internals?.serveHttpOnConnection;
/** The function, when it has the shape this module was written for (five parameters). */
const serveOnConnection = typeof candidate === "function" && candidate.length === 5
  ? candidate as ServeOnConnection
  : undefined;

/** Whether Deno's engine can serve accepted connections on this runtime. */
export function nativeServeActive(): boolean {
  return serveOnConnection !== undefined;
}

/**
 * Why `--engine native` cannot run on this runtime, in one line; undefined when it can.
 *
 * @example
 * ```ts
 * import { nativeServeProblem } from "./serve_http.ts";
 * nativeServeProblem(); // undefined on Deno 2.9
 * ```
 */
export function nativeServeProblem(): string | undefined {
  if (serveOnConnection !== undefined) return undefined;
  const why = internals === undefined
    ? "Deno[Deno.internal] is missing"
    : typeof candidate === "function"
    ? `Deno[Deno.internal].serveHttpOnConnection takes ${candidate.length} arguments, not 5`
    : "Deno[Deno.internal].serveHttpOnConnection is missing";
  return `--engine native: ${why} in Deno ${Deno.version.deno}; use --engine ts`;
}

const noListen = () => {};

/**
 * Serves HTTP/1.1 (and HTTP/2 with prior knowledge) on `conn` with Deno's engine until the
 * client leaves, `shutdown()`, or `signal` aborts (which cuts the connection). `onError` answers
 * for a handler that throws or rejects.
 *
 * @throws {Error} when the runtime lacks the internal (see {@link nativeServeProblem}).
 *
 * @example
 * ```ts ignore
 * import { serveConnection } from "./serve_http.ts";
 * const conn = await listener.accept();
 * const http = serveConnection(conn, new AbortController().signal, () => new Response("hi"),
 *   () => new Response("failed", { status: 500 }));
 * await http.finished;
 * ```
 */
export function serveConnection(
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: NativeHandler,
  onError: (error: unknown) => Response | Promise<Response>,
): NativeHttp {
  if (serveOnConnection === undefined) throw new Error(nativeServeProblem());
  const served = serveOnConnection(conn, signal, handler, onError, noListen);
  // The promise rejects when the client resets the connection: for us that is an end like any.
  const finished = served.finished.then(noListen, noListen);
  return { finished, shutdown: () => served.shutdown().catch(noListen) };
}
