/**
 * The `Deno.serve` peer: serves a bench app through the API rather than the `deno serve` CLI.
 *
 * Usage: deno run -A bench/peers/deno_serve.ts <app module URL> <port>
 */
const [appUrl, port] = Deno.args;
const app: Deno.ServeDefaultExport = (await import(appUrl)).default;

// onListen is silenced so that only failures reach stderr, where the harness looks for reasons.
Deno.serve(
  { hostname: "127.0.0.1", port: Number(port), onListen() {} },
  (req, info) => app.fetch(req, info),
);
