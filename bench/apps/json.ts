import { rows } from "./rows.js";

/** Serializes per request, as a real API would, so big writes and JSON cost both show. */
export default {
  fetch: () => Response.json(rows),
} satisfies Deno.ServeDefaultExport;
