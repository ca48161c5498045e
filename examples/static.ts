/**
 * Static files from `examples/public/`, with Hono's `serveStatic` (content types, `index.html`
 * for directories, no `..` escapes), and a JSON route beside them.
 *
 * ```sh
 * deno run -A mod.ts --port 8080 examples/static.ts
 * curl localhost:8080/
 * ```
 *
 * No `--allow-read` is needed: the app's sandbox may always read the app's own directory, and
 * `public/` is inside it. Files elsewhere need a grant, e.g. `--allow-read=/srv/www`.
 * The root is found from this module's URL, not from the current directory, so the server can
 * be started from anywhere. (Hono 4 marks `hono/deno` deprecated: it leaves Hono in version 5,
 * for a separate `@hono/deno` package.)
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { Hono } from "npm:hono@4.13.19";
import { serveStatic } from "npm:hono@4.13.19/deno";

const root = fileURLToPath(new URL("./public/", import.meta.url));

const app = new Hono();

app.get("/api/time", (c) => c.json({ time: new Date().toISOString() }));
app.use("/*", serveStatic({ root }));
app.notFound((c) => c.text("not found\n", 404));

export default app;
