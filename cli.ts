/**
 * The `starlight` command line: `deno run -A jsr:@x/starlight [options] app.ts`.
 *
 * @example
 * ```sh
 * deno run -A jsr:@x/starlight/cli --port 8080 --workers 4 app.ts
 * ```
 *
 * @module
 */

import { AppError } from "./lib/app.ts";
import { helpText, usageLine } from "./lib/help.ts";
import { OptionError, parseCliArgs } from "./lib/options.ts";
import { isRelaunched, parentGone, relaunch, relaunchNeeded } from "./lib/relaunch.ts";
import { serve } from "./lib/serve.ts";
import { installSignals } from "./lib/signals.ts";
import { VERSION } from "./lib/version.ts";

function stderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

/**
 * Runs the CLI with `args` and resolves to the process exit code: 0 after a clean shutdown,
 * 1 when the server cannot start, 2 for a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let request;
  try {
    request = parseCliArgs(args);
  } catch (error) {
    if (error instanceof OptionError) {
      stderr(`starlight: ${error.message}`);
      stderr(usageLine);
      return 2;
    }
    throw error;
  }
  if (request.help) {
    console.log(helpText());
    return 0;
  }
  if (request.version) {
    console.log(`Starlight/${VERSION} (Deno ${Deno.version.deno})`);
    return 0;
  }
  const development = request.options.env === "development";
  try {
    if (relaunchNeeded()) return await relaunch();
    const server = await serve(request.options, { ownsLogging: true });
    installSignals(server);
    if (isRelaunched()) parentGone().then(() => server.shutdown());
    await server.finished;
    return 0;
  } catch (error) {
    if (error instanceof OptionError) {
      stderr(`starlight: ${error.message}`);
      stderr(usageLine);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    stderr(`starlight: ${message}`);
    if (development && error instanceof Error && !(error instanceof AppError)) stderr(error.stack ?? "");
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
