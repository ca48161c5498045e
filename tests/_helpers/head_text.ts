/**
 * `writeHead` for tests that read heads as text: writes into a fresh buffer and returns the
 * bytes as latin-1 with the plan.
 *
 * @module
 */

import {
  type BodyMode,
  type ResponseContext,
  responseHead,
  writeHead,
} from "../../lib/http/response.ts";

/** A written head as text, with how it says the body follows. */
export interface HeadText {
  text: string;
  mode: BodyMode;
  contentLength: number;
  keepAlive: boolean;
}

/** Writes a head (see `writeHead`) and decodes it; `contentType` as Deno keeps one apart. */
export function headText(
  status: number,
  fields: Iterable<[string, string]>,
  bodyLength: number,
  context: ResponseContext,
  contentType: string | null = null,
): HeadText {
  const plan = responseHead();
  let out = new Uint8Array(64);
  // Written at an offset, to show writeHead leaves what precedes it alone.
  out.fill(0xff);
  while (!writeHead(out, 3, status, fields, contentType, bodyLength, context, plan)) {
    out = new Uint8Array(out.length * 2).fill(0xff);
  }
  if (out[0] !== 0xff || out[1] !== 0xff || out[2] !== 0xff) {
    throw new Error("writeHead wrote before its offset");
  }
  let text = "";
  for (let i = 3; i < plan.end; i++) text += String.fromCharCode(out[i]);
  return { text, mode: plan.mode, contentLength: plan.contentLength, keepAlive: plan.keepAlive };
}
