/**
 * A small JSON API on Hono, as apps are written: a router with a dozen routes, middleware, path
 * parameters, JSON responses, and a JSON body read with `c.req.json()`. The `hono` scenario
 * sends `GET /users/42` and `POST /users` alternately.
 */
import { Hono } from "hono";

const app = new Hono();

app.use("/users/*", async (c, next) => {
  await next();
  c.header("cache-control", "no-store");
});

app.get("/", (c) => c.text("API"));
app.get("/health", (c) => c.json({ ok: true }));
app.get("/users", (c) => c.json({ users: [], page: Number(c.req.query("page") ?? 1) }));
app.get("/users/:id", (c) => {
  const id = Number(c.req.param("id"));
  return c.json({ id, name: `user ${id}`, email: `user${id}@example.com`, active: id % 2 === 0 });
});
app.post("/users", async (c) => {
  const body = await c.req.json<{ name?: unknown; email?: unknown }>();
  if (typeof body.name !== "string") return c.json({ error: "name is required" }, 400);
  return c.json({ id: 1001, name: body.name, email: body.email }, 201);
});
app.put("/users/:id", async (c) => c.json({ id: c.req.param("id"), ...await c.req.json() }));
app.delete("/users/:id", (c) => c.body(null, 204));
app.get("/users/:id/posts", (c) => c.json({ user: c.req.param("id"), posts: [] }));
app.get("/posts/:id", (c) => c.json({ id: c.req.param("id") }));
app.get("/posts/:id/comments", (c) => c.json({ post: c.req.param("id"), comments: [] }));
app.get("/search", (c) => c.json({ q: c.req.query("q") ?? "" }));
app.notFound((c) => c.json({ error: "not found" }, 404));

export default app;
