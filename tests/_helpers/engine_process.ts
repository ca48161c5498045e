/**
 * The engine alone in a child process, on 127.0.0.1, for tests that measure the process (its
 * resident memory, its file descriptors) or that a defect could crash. Run as a program it
 * serves; imported, it starts one.
 *
 * The child's app:
 * - `/consume`: reads the body with `arrayBuffer()` and answers its length;
 * - `/stream`: reads the body stream, keeping every chunk, and answers the total;
 * - `/echo`: streams the body back (`new Response(request.body)`);
 * - `/hang`: never answers;
 * - anything else: `ok`.
 *
 * @module
 */

const HELPER = new URL(import.meta.url).pathname;

if (import.meta.main) {
  // As the real server does. Deno 2.9.6 sets up its signal handling on first use, and panics
  // when that happens while the process is out of file descriptors.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await import("../../lib/http/node_reasons.ts");
  const { HttpServer } = await import("../../lib/engine/server.ts");
  const { DEFAULT_HEAD_LIMITS } = await import("../../lib/http/head.ts");
  const settings = JSON.parse(Deno.env.get("ENGINE_SETTINGS") ?? "{}");
  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path === "/consume") {
      return new Response(String((await request.arrayBuffer()).byteLength));
    }
    if (path === "/stream") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of request.body!) chunks.push(chunk);
      return new Response(String(chunks.reduce((n, chunk) => n + chunk.length, 0)));
    }
    if (path === "/echo") return new Response(request.body);
    if (path === "/hang") return await new Promise<Response>(() => {});
    return new Response("ok");
  };
  // The options spelled out (not through `engineOptions`), so this runs on older engines too.
  const server = new HttpServer({
    handler,
    limits: DEFAULT_HEAD_LIMITS,
    timeout: 5000,
    headerTimeout: 5000,
    keepaliveTimeout: 5000,
    maxKeepaliveRequests: Infinity,
    maxRequestBody: 64 * 1024 * 1024,
    serverSoftware: "Starlight/test",
    development: false,
    ...settings,
  }, {
    warn: (message: string, error?: unknown) =>
      console.error(
        `warn: ${message}${error instanceof Error ? `: ${error.name}: ${error.message}` : ""}`,
      ),
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${listener.addr.port}`);
  server.serve(listener, "http");
}

/** A child process serving the engine. */
export interface EngineProcess extends AsyncDisposable {
  readonly port: number;
  readonly pid: number;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Its resident memory now, in bytes (VmRSS). */
  rss(): number;
  /** The most resident memory it ever had, in bytes (VmHWM). */
  peakRss(): number;
  /** Whether it is still running. */
  alive(): boolean;
}

/** How to start the child. */
export interface EngineProcessOptions {
  /** Engine options to override, as JSON-able values. */
  settings?: Record<string, unknown>;
  /** V8 flags, e.g. `--max-old-space-size=256`. */
  v8Flags?: string;
  /** A lower limit on open files (`ulimit -n`). */
  maxFiles?: number;
  /** The helper to run (another checkout's copy, for a before/after check). */
  helper?: string;
}

function status(pid: number, field: string): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Starts the child and waits until it listens. */
export async function startEngineProcess(
  options: EngineProcessOptions = {},
): Promise<EngineProcess> {
  const deno = [
    Deno.execPath(),
    "run",
    "-A",
    "--no-prompt",
    ...(options.v8Flags === undefined ? [] : [`--v8-flags=${options.v8Flags}`]),
    options.helper ?? HELPER,
  ];
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = options.maxFiles === undefined
    ? new Deno.Command(deno[0], {
      args: deno.slice(1),
      stdout: "piped",
      stderr: "piped",
      env: env(),
    })
    : new Deno.Command("bash", {
      args: ["-c", `ulimit -n ${options.maxFiles} && exec ${deno.map(quote).join(" ")}`],
      stdout: "piped",
      stderr: "piped",
      env: env(),
    });
  function env(): Record<string, string> {
    return { ENGINE_SETTINGS: JSON.stringify(options.settings ?? {}), NO_COLOR: "1" };
  }
  const child = command.spawn();
  let stderr = "";
  let exited = false;
  const status_ = child.status.then((s) => {
    exited = true;
    return s;
  });
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const reader = child.stdout.getReader();
  let out = "";
  let port = 0;
  const deadline = Date.now() + 20_000;
  while (port === 0) {
    if (Date.now() > deadline) throw new Error(`the engine did not start: ${stderr}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`the engine exited at start: ${stderr}`);
    out += decoder.decode(value, { stream: true });
    const match = /listening (\d+)/.exec(out);
    if (match) port = Number(match[1]);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const pid = child.pid;
  return {
    port,
    pid,
    stderr: () => stderr,
    rss: () => status(pid, "VmRSS"),
    peakRss: () => status(pid, "VmHWM"),
    alive: () => !exited,
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGKILL");
      await status_;
    },
  };
}
