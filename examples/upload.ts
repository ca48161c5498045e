/**
 * A streaming upload: `POST /upload` reads the request body chunk by chunk as it arrives and
 * answers how many bytes (and chunks) it got, never holding more than one chunk in memory, so
 * an upload of any size costs the same few kilobytes.
 *
 * ```sh
 * deno run -A mod.ts --port 8080 --max-request-body 1g examples/upload.ts
 * head -c 100m /dev/zero | curl -T - localhost:8080/upload
 * ```
 *
 * Starlight answers 413 to a body over `--max-request-body` (64 MiB by default, `0` for no
 * limit): before the app runs when the `content-length` says so, and as soon as a chunked
 * upload crosses it. Raise the limit for large uploads, as above. To store the upload rather
 * than count it, `await request.body.pipeTo((await Deno.open(path, { write: true, create:
 * true })).writable)` streams it to a file the same way (with `--allow-write` for that path).
 *
 * @module
 */

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/upload") return new Response("not found\n", { status: 404 });
    if (request.method !== "POST" && request.method !== "PUT") {
      return new Response("use POST or PUT\n", { status: 405, headers: { allow: "POST, PUT" } });
    }
    const started = performance.now();
    let bytes = 0;
    let chunks = 0;
    if (request.body !== null) {
      for await (const chunk of request.body) {
        bytes += chunk.byteLength;
        chunks++;
      }
    }
    const body = {
      bytes,
      chunks,
      declared: request.headers.get("content-length"),
      ms: Math.round(performance.now() - started),
    };
    return new Response(JSON.stringify(body) + "\n", {
      headers: { "content-type": "application/json" },
    });
  },
};
