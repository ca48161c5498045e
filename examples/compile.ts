/**
 * A self-contained server binary: this program embeds Starlight and serves `hello.ts`, and
 * `deno compile` turns it into one executable (the `compile` task in deno.json):
 *
 * ```sh
 * deno compile -A --unstable-worker-options --unstable-net --no-prompt \
 *   --include lib/pool/thread_worker.ts --include lib/listen/tls_front.ts \
 *   --include examples/hello.ts --output starlight-hello examples/compile.ts
 * ./starlight-hello 8080
 * ```
 *
 * The `--include`s are the modules that are loaded by URL at run time rather than imported,
 * which the compiler cannot see: Starlight's worker entry (each worker is
 * `new Worker(new URL("./thread_worker.ts", …))`), its TLS front thread (`tls_front.ts`), and
 * the app (a worker imports it by the URL given here). The runtime flags given to `deno compile` are baked into the binary, so it needs no
 * flags when it runs, and Starlight does not re-launch itself inside a compiled binary
 * (`Deno.build.standalone`). `deno compile` downloads a runtime (`denort`) for the target the
 * first time; on a machine without that access, point `DENORT_BIN` at a copy of it.
 *
 * The same file runs uncompiled, with the same flags:
 *
 * ```sh
 * deno run -A --unstable-worker-options --unstable-net --no-prompt examples/compile.ts 8080
 * ```
 *
 * Arguments: the port (default 5000), then the host (default: all addresses).
 *
 * @module
 */

import { serve } from "../mod.ts";

const [port = "5000", host] = Deno.args;
const starting = serve({
  app: new URL("./hello.ts", import.meta.url),
  port: Number(port),
  host,
});

// Listening for signals from the start: a SIGTERM that comes while the workers start still
// stops the server (once it is up) rather than killing the process.
const stop = () => {
  starting.then((server) => server.shutdown());
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
const server = await starting;
await server.finished;
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
