/**
 * Reads the whole upload before answering, so the body is parsed in full and sent back with a
 * Content-Length rather than streamed through.
 */
export default {
  fetch: async (req) =>
    new Response(await req.bytes(), { headers: { "content-type": "application/octet-stream" } }),
} satisfies Deno.ServeDefaultExport;
