import { table } from "../lib/table.ts";
import type { Scenario } from "../lib/scenario.ts";

/**
 * The engine's JavaScript cost per request over an in-memory connection (bench/engine_loop.ts):
 * parse, build the request, call the app, serialise, with no I/O. Best of 3 rounds after a
 * warm-up round, in a fresh process pinned to one core.
 */
export default {
  name: "engine",
  title: "Engine cost per request, in-memory connection (no sockets)",
  quick: true,
  async run(options) {
    const script = new URL("../engine_loop.ts", import.meta.url).pathname;
    const output = await new Deno.Command("taskset", {
      args: [
        "-c",
        "0",
        Deno.execPath(),
        "run",
        "-A",
        script,
        `--starlight=${options.starlight}`,
        `--requests=${options.quick ? 100_000 : 300_000}`,
      ],
      stderr: "inherit",
    }).output();
    if (!output.success) {
      return { body: "n/a — the engine loop failed (see stderr)", summary: [] };
    }
    const results: Record<string, number> = JSON.parse(new TextDecoder().decode(output.stdout));
    const rows = Object.entries(results).map(([name, us]) => [name, `${us.toFixed(2)} µs`]);
    const body = [
      table(["Case", "JS time / request"], rows),
      "Everything the engine and the app do per request except the socket reads and writes; " +
      "lower is better.",
    ].join("\n\n");
    return { body, summary: [] };
  },
} satisfies Scenario;
