/**
 * Server-sent events: `GET /events` streams one event every `interval` milliseconds, each sent
 * as soon as it is produced (Starlight writes every chunk of a streamed body at once, as a
 * chunk of a chunked response). `GET /` is a page that shows them with `EventSource`.
 *
 * ```sh
 * deno run -A mod.ts --port 8080 examples/sse.ts
 * curl -N 'localhost:8080/events?count=5&interval=1000'
 * ```
 *
 * Each event's data is `{"n":N,"at":MILLISECONDS}`, `at` being when the server produced it.
 * When the client goes away the stream is cancelled and the timer stops. Behind a proxy, turn
 * its response buffering off for this path (nginx: `proxy_buffering off;`).
 *
 * @module
 */

const encoder = new TextEncoder();

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Server-sent events</title>
<ol id="events"></ol>
<script>
  const list = document.getElementById("events");
  const source = new EventSource("/events?count=20&interval=1000");
  source.onmessage = (event) => {
    const item = document.createElement("li");
    item.textContent = event.data;
    list.append(item);
  };
  source.addEventListener("done", () => source.close());
</script>
`;

/** A number from the query string, within bounds. */
function param(url: URL, name: string, fallback: number, min: number, max: number): number {
  const value = Number(url.searchParams.get(name) ?? fallback);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.trunc(value))) : fallback;
}

function events(count: number, interval: number): ReadableStream<Uint8Array> {
  let n = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      // Tells EventSource how long to wait before reconnecting.
      controller.enqueue(encoder.encode(`retry: ${interval}\n\n`));
      const tick = () => {
        n++;
        const data = JSON.stringify({ n, at: Date.now() });
        controller.enqueue(encoder.encode(`id: ${n}\ndata: ${data}\n\n`));
        if (n < count) {
          timer = setTimeout(tick, interval);
        } else {
          controller.enqueue(encoder.encode("event: done\ndata: {}\n\n"));
          controller.close();
        }
      };
      timer = setTimeout(tick, 0);
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (url.pathname !== "/events") return new Response("not found\n", { status: 404 });
    const count = param(url, "count", 10, 1, 10_000);
    const interval = param(url, "interval", 1000, 10, 60_000);
    return new Response(events(count, interval), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        // nginx reads this and does not buffer the response.
        "x-accel-buffering": "no",
      },
    });
  },
};
