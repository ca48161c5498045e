/**
 * The smallest app: `deno run -A mod.ts examples/hello.ts`, then `curl localhost:5000`.
 *
 * @module
 */

export default {
  fetch(): Response {
    return new Response("Hello, World!\n");
  },
};
