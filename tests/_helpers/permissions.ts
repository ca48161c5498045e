/**
 * Shared by the permission and re-launch tests: a temporary site for the probe app, asking the
 * probe, process-tree inspection through /proc, a static module server, and running a command
 * under a pseudo-terminal (`script` from util-linux).
 *
 * @module
 */

const here = new URL("../fixtures/permissions/", import.meta.url);

/**
 * A temporary layout without any deno.json:
 * ```
 * root/secret.txt        outside everything
 * root/srv/              the server's working directory
 * root/srv/public/x.txt  next to the app, not inside its directory
 * root/srv/out/          a place the app may be allowed to write
 * root/srv/app/app.ts    the probe app, with data.txt beside it
 * ```
 */
export interface Site {
  root: string;
  srv: string;
  app: string;
  cleanup(): Promise<void>;
}

/** Creates a {@link Site} with the probe app (or `appSource` as `app/app.ts`). */
export async function makeSite(appSource?: string): Promise<Site> {
  const root = await Deno.makeTempDir({ prefix: "starlight-perm-" });
  const srv = `${root}/srv`;
  await Deno.mkdir(`${srv}/public`, { recursive: true });
  await Deno.mkdir(`${srv}/out`, { recursive: true });
  await Deno.mkdir(`${srv}/app`, { recursive: true });
  await Deno.writeTextFile(`${root}/secret.txt`, "top secret\n");
  await Deno.writeTextFile(`${srv}/public/x.txt`, "public x\n");
  await Deno.writeTextFile(`${srv}/app/data.txt`, "own data\n");
  const source = appSource ??
    await Deno.readTextFile(new URL("probe_app.ts", here));
  await Deno.writeTextFile(`${srv}/app/app.ts`, source);
  return {
    root,
    srv,
    app: `${srv}/app/app.ts`,
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** What the probe app answered. */
export interface ProbeResult {
  ok: boolean;
  value?: unknown;
  error?: string;
  message?: string;
}

/** Asks the probe app on `port` to try `op` with `arg`. */
export async function probe(port: number, op: string, arg = ""): Promise<ProbeResult> {
  const url = `http://127.0.0.1:${port}/?op=${op}&arg=${encodeURIComponent(arg)}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** A TCP listener on 127.0.0.1 that accepts and drops connections; for outbound-net probes. */
export function sinkListener(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch {
      // Closed.
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => listener.close(),
  };
}

/** A native library that exists on this machine, for FFI probes. */
export function libraryPath(): string {
  const candidates = [
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib/libc.so.6",
  ];
  const found = candidates.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
  if (found === undefined) throw new Error("no libc found for the FFI probe");
  return found;
}

// ---------------------------------------------------------------------------------------------
// Processes.

interface Stat {
  pid: number;
  ppid: number;
  state: string;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** The command line of `pid`, or `undefined` once it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    const parts = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

/** Live (not zombie) child processes of `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (stat !== undefined && stat.ppid === pid && stat.state !== "Z") children.push(stat.pid);
  }
  return children;
}

/** Every live descendant of `pid`. */
export function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  for (const child of childrenOf(pid)) all.push(child, ...descendantsOf(child));
  return all;
}

/** Whether `pid` is running (a zombie counts as gone). */
export function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/** Polls until `check` returns a value other than `undefined`, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for `pid` to be gone; throws (after killing it) if it outlives `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    await until(`process ${pid} to exit`, () => alive(pid) ? undefined : true, timeoutMs);
  } catch (error) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone after all.
    }
    throw error;
  }
}

/** The deno processes among `pids`. */
export function denoProcesses(pids: number[]): number[] {
  const deno = Deno.execPath();
  return pids.filter((pid) => cmdline(pid)?.[0] === deno);
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// A pseudo-terminal.

/** A command running under `script`, whose stdin, stdout and stderr are a terminal. */
export interface PtyRun {
  /** The `script` process. */
  process: Deno.ChildProcess;
  /** Everything the terminal showed so far, without carriage returns. */
  output(): string;
  /** Waits until the output matches, or throws (with the output) after `timeoutMs`. */
  waitFor(wanted: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit status once `script` has ended and its output is read. */
  exited: Promise<Deno.CommandStatus>;
  /** Ends `script` and everything under it. */
  kill(): Promise<void>;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Runs `argv` under `script -qfec`, giving it a terminal on stdin, stdout and stderr. */
export function runInPty(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): PtyRun {
  const process = new Deno.Command("script", {
    args: ["-qfec", argv.map(shellQuote).join(" "), "/dev/null"],
    cwd: options.cwd,
    env: options.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let ended = false;
  const wakers = new Set<() => void>();
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true }).replaceAll("\r", "");
      for (const wake of wakers) wake();
    }
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const exited = process.status.then(async (status) => {
    await pumps;
    ended = true;
    for (const wake of wakers) wake();
    return status;
  });
  const run: PtyRun = {
    process,
    output: () => text,
    waitFor(wanted, timeoutMs = 20_000) {
      const found = () => typeof wanted === "string" ? text.includes(wanted) : wanted.test(text);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`timed out waiting for ${wanted}; terminal so far:\n${text}`));
        }, timeoutMs);
        const check = () => {
          if (!found() && !ended) return;
          clearTimeout(timer);
          wakers.delete(check);
          if (found()) resolve();
          else reject(new Error(`ended before ${wanted}; terminal:\n${text}`));
        };
        wakers.add(check);
        check();
      });
    },
    exited,
    async kill() {
      const pids = descendantsOf(process.pid);
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        for (const pid of [process.pid, ...pids]) {
          try {
            Deno.kill(pid, signal);
          } catch {
            // Already gone.
          }
        }
        const settled = await Promise.race([
          exited.then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000)),
        ]);
        if (settled && pids.every((pid) => !alive(pid))) break;
      }
      try {
        await process.stdin.close();
      } catch {
        // Already closed.
      }
      await exited;
    },
  };
  return run;
}
