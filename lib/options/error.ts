/**
 * The error every option problem becomes: one line naming the option as its command-line flag.
 *
 * @module
 */

/**
 * A bad option, from the command line or the API. The message is one line naming the option,
 * fit to print after `starlight: `.
 *
 * @example Telling a bad option from other start-up failures
 * ```ts
 * import { OptionError, serve } from "@x/starlight";
 * try {
 *   await serve({ app: "./app.ts", port: 70000 });
 * } catch (error) {
 *   if (!(error instanceof OptionError)) throw error;
 *   // "--port", "--port: 70000 is not a port number (0-65535)"
 *   console.error(error.option, error.message);
 * }
 * ```
 */
export class OptionError extends Error {
  /** The option at fault as a flag, e.g. `--port`. */
  readonly option: string;

  /** Creates an option error; `message` should mention `option`. */
  constructor(option: string, message: string) {
    super(message);
    this.name = "OptionError";
    this.option = option;
  }
}
