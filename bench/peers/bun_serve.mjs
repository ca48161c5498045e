// The Bun peer: serves a bench app (the same file the Deno servers run) with Bun.serve.
// Plain JavaScript, so Deno's type check does not need Bun's types.
//
// Usage: bun --no-install bench/peers/bun_serve.mjs <app path> <port>
// The app is bench/lib/bun.ts's copy in bench/.cache/bun/apps/, beside the node_modules that
// holds Hono: Bun never fetches packages itself.
const [appPath, port] = process.argv.slice(2);
const app = (await import(appPath)).default;

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  // Bun's default of 10 s would close the memory scenario's idle connections before they count.
  idleTimeout: 120,
  fetch: (req, server) => app.fetch(req, server),
});
