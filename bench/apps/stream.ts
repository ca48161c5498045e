const CHUNKS = 100;
const chunk = new TextEncoder().encode("x".repeat(1023) + "\n");

/** 100 chunks of 1 KiB, pulled one at a time: measures per-chunk cost of chunked encoding. */
export default {
  fetch() {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // A fresh buffer per chunk, as a real producer's would be, and safe if a server detaches it.
        controller.enqueue(chunk.slice());
        if (++sent === CHUNKS) controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  },
} satisfies Deno.ServeDefaultExport;
