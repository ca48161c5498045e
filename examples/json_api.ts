/**
 * A small JSON API with no dependencies: routing on method and path, JSON bodies in and out,
 * and errors as JSON with the right status.
 *
 * ```sh
 * deno run -A mod.ts --port 8080 examples/json_api.ts
 * curl localhost:8080/api/health
 * curl -d '{"numbers":[1,2,3.5]}' -H 'content-type: application/json' localhost:8080/api/sum
 * ```
 *
 * The API is stateless on purpose: each worker is an isolate of its own, so a module-level
 * `Map` would give every worker a different copy of the data. Keep shared state in a
 * database (or `Deno.openKv()`), not in module variables.
 *
 * @module
 */

/** A JSON response; `init` adds a status or headers. */
function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body) + "\n", { ...init, headers });
}

/** An error as `{ "error": message }`. */
function problem(status: number, message: string, headers?: HeadersInit): Response {
  return json({ error: message }, { status, headers });
}

/** Largest request body this API reads, in bytes (the server's own limit is far higher). */
const MAX_BODY = 64 * 1024;

async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new HttpError(415, "expected a JSON body (content-type: application/json)");
  }
  const text = await request.text();
  if (text.length > MAX_BODY) throw new HttpError(413, `the body is over ${MAX_BODY} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "the body is not valid JSON");
  }
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Route = (request: Request, url: URL) => Response | Promise<Response>;

const routes: Record<string, Record<string, Route>> = {
  "/api/health": {
    GET: () => json({ status: "ok", time: new Date().toISOString() }),
  },
  "/api/sum": {
    POST: async (request) => {
      const body = await readJson(request) as { numbers?: unknown };
      const numbers = body?.numbers;
      if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === "number")) {
        throw new HttpError(422, 'expected { "numbers": [ ...numbers ] }');
      }
      return json({ count: numbers.length, sum: numbers.reduce((a, b) => a + b, 0) });
    },
  },
  "/api/echo": {
    GET: (request, url) =>
      json({
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        userAgent: request.headers.get("user-agent"),
      }),
  },
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const methods = routes[url.pathname];
    if (methods === undefined) return problem(404, `no route for ${url.pathname}`);
    const route = methods[request.method];
    if (route === undefined) {
      const allow = Object.keys(methods).join(", ");
      return problem(405, `${request.method} is not allowed here`, { allow });
    }
    try {
      return await route(request, url);
    } catch (error) {
      if (error instanceof HttpError) return problem(error.status, error.message);
      throw error; // Starlight answers 500 and logs it.
    }
  },
};
