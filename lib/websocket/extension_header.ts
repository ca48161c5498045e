/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1): a comma-separated list of extension
 * offers, each a token with `;`-separated parameters, whose values are tokens or quoted strings.
 *
 * @module
 */

/** One offered extension; names are lower-cased, a parameter without a value has `true`. */
export interface ExtensionOffer {
  /** The extension's name, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Parameters in offer order; duplicates are kept so the extension can reject them. */
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const SPACE = /[ \t]*/y;

/**
 * Parses an extension header, or returns `undefined` when it is malformed (the caller then
 * negotiates no extension rather than guessing).
 *
 * @example
 * ```ts
 * import { parseExtensionHeader } from "./extension_header.ts";
 * parseExtensionHeader("permessage-deflate; client_max_window_bits");
 * // [{ name: "permessage-deflate", params: [["client_max_window_bits", true]] }]
 * ```
 */
export function parseExtensionHeader(header: string): ExtensionOffer[] | undefined {
  let i = 0;
  const match = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = i;
    const found = pattern.exec(header);
    if (found) i = pattern.lastIndex;
    return found;
  };
  const skipSpace = (): void => void match(SPACE);

  const offers: ExtensionOffer[] = [];
  while (true) {
    skipSpace();
    const name = match(TOKEN)?.[0];
    if (name === undefined) return undefined;
    const params: [string, string | true][] = [];
    skipSpace();
    while (header[i] === ";") {
      i++;
      skipSpace();
      const param = match(TOKEN)?.[0];
      if (param === undefined) return undefined;
      skipSpace();
      let value: string | true = true;
      if (header[i] === "=") {
        i++;
        skipSpace();
        const quoted = match(QUOTED);
        const found = quoted ? quoted[1].replace(/\\(.)/g, "$1") : match(TOKEN)?.[0];
        if (found === undefined) return undefined;
        value = found;
        skipSpace();
      }
      params.push([param.toLowerCase(), value]);
    }
    offers.push({ name: name.toLowerCase(), params });
    if (i === header.length) return offers;
    if (header[i] !== ",") return undefined;
    i++;
  }
}
