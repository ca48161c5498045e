/**
 * Static files from `apps/public/` through Hono's `serveStatic`: `hono/deno` on Deno, `hono/bun`
 * on Bun (the same file serves both). The root is absolute, from this module's URL, so the
 * current directory does not matter; Starlight's sandbox lets an app read its own directory.
 */
import { fileURLToPath } from "node:url";
import { Hono } from "hono";

const root = fileURLToPath(new URL("./public/", import.meta.url));
const { serveStatic } = "Bun" in globalThis ? await import("hono/bun") : await import("hono/deno");

const app = new Hono();
app.use("/*", serveStatic({ root }));
app.notFound((c) => c.text("not found\n", 404));

export default app;
