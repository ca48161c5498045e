/**
 * Starlight inside a program of your own: `serve()` starts the supervisor and its workers in
 * this process and returns a handle to run it with. Here the program serves `hello.ts` on two
 * workers, shuts down gracefully on Ctrl-C or SIGTERM, restarts the workers on SIGHUP (a
 * zero-downtime reload of the app), and reports where it listens and when it stopped.
 *
 * ```sh
 * deno run -A --unstable-worker-options --unstable-net --no-prompt examples/embed.ts 8080
 * ```
 *
 * Unlike the CLI, an embedding program does not re-launch itself, so it must be started with
 * the flags sandboxed workers need: `--unstable-worker-options` (per-worker permissions),
 * `--unstable-net` (a shared listening socket) and `--no-prompt` (a sandboxed app must not be
 * able to ask your terminal for more permissions). In a project of your own, `"unstable":
 * ["worker-options", "net"]` in deno.json does the first two. With `workers: 0` the app
 * runs in this thread, needs none of them, and may be a function instead of a module.
 *
 * Arguments: the port (default 5000), then the host (default: all addresses).
 *
 * Options are the CLI's, camelCased (`--max-reqs-per-child` is `maxReqsPerChild`), with the
 * same defaults and the same validation.
 *
 * @module
 */

import { serve } from "../mod.ts";

const [port = "5000", host] = Deno.args;
const starting = serve({
  app: new URL("./hello.ts", import.meta.url),
  port: Number(port),
  host,
  workers: 2,
  gracefulTimeout: 10,
});

// Listening for signals from the start: a SIGTERM that comes while the workers start still
// stops the server (once it is up) rather than killing the process.
const stop = () => {
  starting.then((server) => server.shutdown());
};
const reload = () => {
  starting.then((server) => server.restart()).then(() => console.log("embed: workers restarted"));
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGHUP", reload);

const server = await starting;
for (const address of server.addresses) {
  if (address.kind === "tcp") console.log(`embed: serving http://localhost:${address.port}/`);
}
await server.finished;
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
Deno.removeSignalListener("SIGHUP", reload);
console.log("embed: stopped");
