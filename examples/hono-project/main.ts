/**
 * A Hono project as `deno init` and `deno add npm:hono` leave it: its own deno.json maps the
 * bare `"hono"`, and this file is what `deno serve main.ts` runs. Starlight serves it
 * unchanged, with the project's configuration (import map, `nodeModulesDir`,
 * `compilerOptions`, `unstable`), from this directory or any other:
 *
 * ```sh
 * cd examples/hono-project
 * deno run -A jsr:@x/starlight --port 8000 main.ts
 * # or, from anywhere: starlight --port 8000 path/to/hono-project/main.ts
 * ```
 *
 * @module
 */

import { Hono } from "hono";
import { logger } from "hono/logger";

const app = new Hono();

app.use(logger());

app.get("/", (c) => c.text("Hello from a Hono project"));

app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name") }));

export default app;
