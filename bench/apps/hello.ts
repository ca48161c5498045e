/** The smallest useful response: measures the engine, not the app. */
export default {
  fetch: () => new Response("Hello, World!"),
} satisfies Deno.ServeDefaultExport;
