/**
 * A Hono project as `deno init` and `deno add npm:hono` leave it: its own deno.json maps the
 * bare `"hono"` and sets Hono's JSX, and this file is what `deno serve main.tsx` runs. Starlight
 * serves it unchanged, with the project's configuration:
 *
 * ```sh
 * cd examples/hono-project
 * deno run -A jsr:@x/starlight --port 8000 main.tsx
 * ```
 *
 * @module
 */

import { Hono } from "hono";

const app = new Hono();

app.get("/", (c) => c.text("Hello from a Hono project"));

app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name") }));

app.get("/page", (c) =>
  c.html(
    <html>
      <body>
        <h1>Rendered with hono/jsx</h1>
      </body>
    </html>,
  ));

export default app;
