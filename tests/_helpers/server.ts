/**
 * Starts the Starlight CLI as a user would, in a child process, and finds the port it bound
 * from its banner. Shared by the black-box tests.
 *
 * @module
 */

const root = new URL("../../", import.meta.url);

/** The repository root as a path. */
export const repoRoot: string = decodeURIComponent(root.pathname);

/** A running server. */
export interface RunningServer {
  /** The child process. */
  process: Deno.ChildProcess;
  /** The first TCP port from the banner (0 when none). */
  port: number;
  /** Everything the server wrote to stderr so far (banner, log lines). */
  stderr(): string;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** Waits for the process to end; resolves to its status. */
  exited(): Promise<Deno.CommandStatus>;
  /** Waits until stderr contains `text` (or the timeout passes, then throws). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/** Listen on a free loopback port (the banner names it): the start of most test command lines. */
export const LOOPBACK: readonly string[] = ["--host", "127.0.0.1", "--port", "0"];

/** Options for {@link startServer}. */
export interface StartOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Runtime flags before `mod.ts` (default: `-A --no-prompt`). */
  denoFlags?: string[];
  /** The entry module (default: the repository's `mod.ts`). */
  entry?: string;
  /** How long to wait for the banner. */
  timeoutMs?: number;
  /** Wait for this instead of the banner (e.g. for servers started with `-q`). */
  readyWhen?: string | RegExp;
  /** Run this program with `args` instead of `deno run <flags> <entry>` (a `deno install` shim). */
  program?: string;
}

/**
 * The server variant the suites run on, from the environment, for servers started through the
 * CLI (`mod.ts`, `cli.ts`): `STARLIGHT_TEST_ENGINE=native` adds `--engine native`,
 * `STARLIGHT_TEST_ISOLATION=process` adds `--isolation process` (unless the test chose its own),
 * e.g. `STARLIGHT_TEST_ISOLATION=process deno test -A tests/pool/`.
 */
export function variantArgs(args: string[] = [], entry?: string): string[] {
  if (entry !== undefined && !/\/(mod|cli)\.ts$/.test(entry)) return [];
  const variant: string[] = [];
  const engine = Deno.env.get("STARLIGHT_TEST_ENGINE");
  if (engine !== undefined && engine !== "ts") variant.push("--engine", engine);
  const isolation = Deno.env.get("STARLIGHT_TEST_ISOLATION");
  if (isolation !== undefined && !args.some((arg) => arg.startsWith("--isolation"))) {
    variant.push("--isolation", isolation);
  }
  return variant;
}

/**
 * Starts `deno run <flags> mod.ts <args>` and waits for the banner
 * (`Starting Starlight/… server listening at port N`). Pass `--port 0` to get a free port.
 */
export async function startServer(
  args: string[],
  options: StartOptions = {},
): Promise<RunningServer> {
  const command = new Deno.Command(options.program ?? Deno.execPath(), {
    args: options.program !== undefined ? args : [
      "run",
      // Servers under test never write the repository's lockfile (apps there import from test URLs).
      ...(options.denoFlags ?? ["-A", "--no-prompt", "--no-lock"]),
      options.entry ?? `${repoRoot}mod.ts`,
      ...variantArgs(args, options.entry),
      ...args,
    ],
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const process = command.spawn();
  let text = "";
  const waiters = new Set<() => void>();
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      for (const wake of waiters) wake();
    }
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  let status: Deno.CommandStatus | undefined;
  const statusPromise = process.status.then(async (s) => {
    await pumps;
    status = s;
    for (const wake of waiters) wake();
    return s;
  });

  const waitFor = (wanted: string | RegExp, timeoutMs = 20_000): Promise<void> => {
    const found = () => typeof wanted === "string" ? text.includes(wanted) : wanted.test(text);
    if (found()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${wanted}; output so far:\n${text}`));
      }, timeoutMs);
      const check = () => {
        if (found()) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        } else if (status !== undefined) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`server exited (${status.code}) before ${wanted}; output:\n${text}`));
        }
      };
      waiters.add(check);
    });
  };

  const server: RunningServer = {
    process,
    port: 0,
    stderr: () => text,
    kill: (signal = "SIGTERM") => {
      try {
        process.kill(signal);
      } catch {
        // Already exited.
      }
    },
    exited: () => statusPromise,
    waitFor,
    async stop(graceMs = 10_000) {
      server.kill("SIGTERM");
      const timer = setTimeout(() => server.kill("SIGKILL"), graceMs);
      const result = await statusPromise;
      clearTimeout(timer);
      return result;
    },
  };
  try {
    await waitFor(options.readyWhen ?? /listening at (port|socket)/, options.timeoutMs ?? 30_000);
  } catch (error) {
    server.kill("SIGKILL");
    await statusPromise;
    throw error;
  }
  const match = text.match(/listening at port (\d+)/);
  server.port = match ? Number(match[1]) : 0;
  return server;
}

/** Sends raw bytes and reads until the server closes or `timeoutMs` passes; returns the text. */
export async function rawExchange(
  port: number,
  request: string | Uint8Array,
  timeoutMs = 5000,
  hostname = "127.0.0.1",
): Promise<string> {
  const conn = await Deno.connect({ hostname, port });
  const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
  await conn.write(bytes);
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), timeoutMs);
  const buffer = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } catch {
    // Closed by the timer.
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  return new TextDecoder("latin1").decode(concat(chunks));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
