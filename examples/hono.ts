/**
 * A Hono app on Starlight. A Hono app is an object with a `fetch(request, info)` method, so
 * default-exporting it is all the wiring there is.
 *
 * ```sh
 * deno run -A mod.ts --port 8080 examples/hono.ts
 * curl localhost:8080/hello/starlight
 * ```
 *
 * Hono is imported with a full `npm:` specifier, pinned to the version in this repository's
 * deno.json, rather than the bare `"hono"`: a bare name only resolves through a deno.json
 * import map, and this file must also work when copied into a directory without one (or
 * served with `deno run -A jsr:@x/starlight app.ts` from anywhere). In a project of your own,
 * `deno add npm:hono` and `import { Hono } from "hono"` is just as good.
 *
 * @module
 */

import { Hono } from "npm:hono@4.13.19";

const app = new Hono();

// Middleware: how long each request took, as a header.
app.use(async (c, next) => {
  const start = performance.now();
  await next();
  c.header("x-response-time", `${(performance.now() - start).toFixed(1)}ms`);
});

app.get("/", (c) => c.text("Hono on Starlight\n"));

app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name") }));

app.post("/echo", async (c) => {
  const body = await c.req.json().catch(() => undefined);
  if (body === undefined) return c.json({ error: "expected a JSON body" }, 400);
  return c.json({ received: body });
});

app.notFound((c) => c.json({ error: `no route for ${c.req.path}` }, 404));

export default app;
