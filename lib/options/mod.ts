/**
 * The one option schema: names, aliases, defaults and validation, shared by the command line
 * (`parseCliArgs`) and the embedding API (`resolveOptions`). Code outside this folder imports
 * from here.
 *
 * @module
 */

export type * from "./types.ts";
export { OptionError } from "./error.ts";
export {
  DEFAULT_LISTEN_MODE,
  type OptionGroup,
  type OptionHelp,
  PERMISSION_KINDS,
} from "./spec.ts";
export { OPTION_HELP } from "./table.ts";
export { parseCliArgs } from "./argv.ts";
export { resolveOptions } from "./resolve.ts";
