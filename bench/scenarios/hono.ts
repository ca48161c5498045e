import { singleCoreScenario } from "../lib/single_core.ts";

/**
 * What most apps are: a router, JSON out, JSON in. The Hono app in apps/hono_api.ts, with
 * requests alternating between `GET /users/:id` (a JSON response) and `POST /users` (a JSON
 * body read with `c.req.json()`, answered 201 with JSON).
 */
export default singleCoreScenario({
  name: "hono",
  title: "Hono app: routing, JSON GET and JSON POST alternating, keep-alive, 50 connections",
  quick: true,
  app: "hono_api",
  load: { connections: 50, script: "hono.lua" },
  summary: "Hono: routing, JSON GET / JSON POST",
  note: "Every server runs the same Hono app file, Bun included. node:http reads n/a: Node " +
    "cannot run it without `@hono/node-server`, which is not pinned here.",
});
