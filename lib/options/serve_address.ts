/**
 * `DENO_SERVE_ADDRESS`, the environment variable `deno serve` (and `Deno.serve`) take their
 * listen address from: `tcp:HOST:PORT` (`tcp:[::1]:8000` for IPv6) or `unix:/path`, optionally
 * prefixed with `duplicate,` to listen there in addition to the program's own address.
 *
 * Here the command line is the operator's most specific word: the variable gives the default
 * address, used when none of `--port`, `--host`, `--listen` and `--socket` is given; with
 * `duplicate,` it is one listener more, next to the ones the command line gives (or the
 * default port). `vsock:` and anything malformed are refused in one line, where Deno logs and
 * ignores them. Only the command line reads it; `serve()` takes its addresses from its options.
 *
 * @module
 */

import { OptionError } from "./error.ts";
import { DEFAULT_PORT } from "./spec.ts";
import type { ServeOptions } from "./types.ts";

const NAME = "DENO_SERVE_ADDRESS";

/**
 * The `--listen` address a `DENO_SERVE_ADDRESS` value stands for, and whether it is a
 * duplicate (an extra listener).
 *
 * @throws {OptionError} naming the variable, for vsock and malformed values.
 * @example
 * ```ts
 * import { parseServeAddress } from "./serve_address.ts";
 * parseServeAddress("duplicate,tcp:127.0.0.1:8000"); // { listen: "127.0.0.1:8000", duplicate: true }
 * parseServeAddress("unix:/run/app.sock"); // { listen: "/run/app.sock", duplicate: false }
 * ```
 */
export function parseServeAddress(value: string): { listen: string; duplicate: boolean } {
  const duplicate = value.startsWith("duplicate,");
  const address = duplicate ? value.slice("duplicate,".length) : value;
  const colon = address.indexOf(":");
  const kind = colon === -1 ? "" : address.slice(0, colon);
  const rest = address.slice(colon + 1);
  const bad = (why: string) => new OptionError(NAME, `${NAME}: '${value}' ${why}`);
  switch (kind) {
    case "tcp": {
      const match = /^(\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(rest);
      if (match === null || Number(match[2]) > 65535) {
        throw bad("is not tcp:IP:PORT (an IP address, [IPv6] in brackets, and a port)");
      }
      return { listen: rest, duplicate };
    }
    case "unix":
      if (!rest.startsWith("/")) throw bad("is not unix: and an absolute socket path");
      return { listen: rest, duplicate };
    case "vsock":
      throw bad("is a vsock address, which Starlight cannot listen on");
    default:
      throw bad("is not tcp:HOST:PORT or unix:PATH");
  }
}

/**
 * `options` with the listen address `DENO_SERVE_ADDRESS` (`value`) gives, as described above.
 *
 * @throws {OptionError} for values {@link parseServeAddress} refuses.
 * @example
 * ```ts
 * import { applyServeAddress } from "./serve_address.ts";
 * applyServeAddress({ app: "app.ts" }, "tcp:127.0.0.1:8000");
 * // { app: "app.ts", listen: ["127.0.0.1:8000"] }
 * ```
 */
export function applyServeAddress(
  options: ServeOptions,
  value: string | undefined,
): ServeOptions {
  if (value === undefined || value === "") return options;
  const { listen, duplicate } = parseServeAddress(value);
  const given = options.port !== undefined || options.host !== undefined ||
    options.listen !== undefined || options.socket !== undefined;
  if (!duplicate) return given ? options : { ...options, listen: [listen] };
  // The default listener stays: name its port, or the extra listener would replace it.
  return {
    ...options,
    ...(given ? {} : { port: DEFAULT_PORT }),
    listen: [...options.listen ?? [], listen],
  };
}
