/**
 * An app that needs more than the default sandbox: it reads the `UPSTREAM` environment
 * variable and fetches that URL. Starlight's workers may only listen on their own addresses
 * and read the app's directory, so the operator grants exactly these two things, by name:
 *
 * ```sh
 * UPSTREAM=http://127.0.0.1:9000/ deno run -A mod.ts --port 8080 \
 *   --allow-env=UPSTREAM --allow-net=127.0.0.1:9000 examples/permissions.ts
 * curl localhost:8080/
 * ```
 *
 * (Something must answer on 127.0.0.1:9000, e.g. `deno run -A mod.ts --port 9000
 * examples/hello.ts` in another terminal.) The `-A` is the server's own permissions; the app
 * gets only what the `--allow-*` flags after the script name give it. Without them, the
 * reads below fail with `Deno.errors.NotCapable`, which this app answers as a 503 naming the
 * missing permission; other environment variables and other hosts stay out of reach even
 * with the grants.
 *
 * @module
 */

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/") return json({ error: "not found" }, 404);
    try {
      const upstream = Deno.env.get("UPSTREAM");
      if (!upstream) return json({ error: "set UPSTREAM to the URL to fetch" }, 500);
      const response = await fetch(upstream, { signal: AbortSignal.timeout(5000) });
      return json({ upstream, status: response.status, body: await response.text() });
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) {
        return json({ error: "not permitted", detail: error.message }, 503);
      }
      return json({ error: "upstream failed", detail: String(error) }, 502);
    }
  },
};
