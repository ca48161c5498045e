import { singleCoreScenario } from "../lib/single_core.ts";

/** A static file through Hono's `serveStatic`: open, stat, stream the file per request. */
export default singleCoreScenario({
  name: "static",
  title: "Static file (16 KiB HTML) through Hono's serveStatic, keep-alive, 50 connections",
  quick: false,
  app: "hono_static",
  load: { connections: 50, path: "/page.html" },
  summary: "static 16 KiB file, Hono serveStatic",
  note: "Deno's servers use `serveStatic` from `hono/deno`, Bun the one from `hono/bun`; " +
    "node:http streams the file with `fs.createReadStream`.",
});
