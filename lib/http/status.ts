/**
 * Status lines, built once per status and version, with reason phrases from `node:http`'s
 * `STATUS_CODES`.
 *
 * The table is installed rather than imported here: the supervisor imports `node:http`
 * (`node_reasons.ts`) and hands the table to each worker in its start message, so workers do
 * not load Node's HTTP module (about 4.5 MiB each) for a list of strings.
 *
 * @module
 */

let reasons: Readonly<Record<number, string | undefined>> = {};
const cache: [string[], string[]] = [[], []];
const bytesCache: [Uint8Array[], Uint8Array[]] = [[], []];

/** Installs the reason phrases (`node:http`'s `STATUS_CODES`). */
export function setReasonPhrases(table: Readonly<Record<number, string | undefined>>): void {
  reasons = table;
  cache[0].length = 0;
  cache[1].length = 0;
  bytesCache[0].length = 0;
  bytesCache[1].length = 0;
}

/** The installed reason phrases, to hand to a worker. */
export function reasonPhrases(): Readonly<Record<number, string | undefined>> {
  return reasons;
}

/** The reason phrase for `status` (`""` for codes `node:http` does not know). */
export function reasonPhrase(status: number): string {
  return reasons[status] ?? "";
}

/** `HTTP/1.<minor> <status> <reason>\r\n`, memoised. */
export function statusLine(minor: number, status: number): string {
  const lines = cache[minor === 0 ? 0 : 1];
  return lines[status] ??= `HTTP/1.${minor === 0 ? 0 : 1} ${status} ${reasonPhrase(status)}\r\n`;
}

/** {@link statusLine} as bytes (reason phrases are ASCII), memoised. */
export function statusLineBytes(minor: number, status: number): Uint8Array {
  const lines = bytesCache[minor === 0 ? 0 : 1];
  return lines[status] ??= new TextEncoder().encode(statusLine(minor, status));
}
