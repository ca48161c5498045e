/**
 * Byte-level rules of the chunked transfer coding decoder (`lib/http/chunked.ts`).
 */
import assert from "node:assert/strict";
import { ChunkedDecoder, MAX_CHUNK_SIZE_LINE, writeChunkSize } from "../../lib/http/chunked.ts";
import { ProtocolError } from "../../lib/http/error.ts";

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(data: Uint8Array): string {
  let s = "";
  for (const b of data) s += String.fromCharCode(b);
  return s;
}

interface Decoded {
  body: string;
  /** Index where decoding stopped. */
  used: number;
  done: boolean;
  received: number;
}

/** Feeds `input` whole; returns the body and where decoding stopped, or the error. */
function decode(input: string, maxBody = Infinity): Decoded | ProtocolError {
  const decoder = new ChunkedDecoder(maxBody);
  const buf = bytes(input);
  const used = decoder.feed(buf, 0, buf.length);
  if (used instanceof ProtocolError) return used;
  const body = text(buf.subarray(0, decoder.dataEnd));
  return { body, used, done: decoder.done, received: decoder.received };
}

function decoded(input: string, maxBody = Infinity): Decoded {
  const result = decode(input, maxBody);
  if (result instanceof ProtocolError) {
    assert.fail(`refused with ${result.status} (${result.reason}): ${JSON.stringify(input)}`);
  }
  return result;
}

function refused(input: string, status: number, maxBody = Infinity): void {
  const result = decode(input, maxBody);
  assert.ok(result instanceof ProtocolError, `accepted: ${JSON.stringify(input.slice(0, 80))}`);
  assert.equal(result.status, status, result.reason);
}

Deno.test("chunked: one chunk decodes, and decoding stops just past the last chunk", () => {
  const input = "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n";
  const result = decoded(input);
  assert.equal(result.body, "hello");
  assert.equal(result.done, true);
  assert.equal(result.used, input.indexOf("GET"));
});

Deno.test("chunked: several chunks concatenate; sizes are hex, any case, leading zeros", () => {
  const result = decoded(
    "3\r\nabc\r\nA\r\n0123456789\r\na\r\nABCDEFGHIJ\r\n0002\r\nxy\r\n000\r\n\r\n",
  );
  assert.equal(result.body, "abc0123456789ABCDEFGHIJxy");
  assert.equal(result.received, 25);
  assert.equal(result.done, true);
});

Deno.test("chunked: an empty body is just the last chunk", () => {
  const result = decoded("0\r\n\r\n");
  assert.deepEqual([result.body, result.done, result.used], ["", true, 5]);
});

Deno.test("chunked: data bytes are taken verbatim, CR and LF included", () => {
  assert.equal(decoded("6\r\n\r\n0\r\n\r\r\n0\r\n\r\n").body, "\r\n0\r\n\r");
});

Deno.test("chunked: not done (and no error) while the body is incomplete", () => {
  for (const input of ["5", "5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n", "0\r\nX: 1\r\n"]) {
    const result = decoded(input);
    assert.equal(result.done, false, JSON.stringify(input));
    assert.equal(result.used, input.length);
  }
});

Deno.test("chunked: well-formed chunk extensions are accepted and dropped", () => {
  for (
    const ext of [
      ";a",
      ";a=b",
      ";a=b;c=d",
      " ;a",
      "\t; a = b ",
      ';name="quoted value"',
      ';q="esc\\"aped\\\\"',
      ';q="obs\xe9text"',
      ";a;b=c ;d",
    ]
  ) {
    const result = decoded(`5${ext}\r\nhello\r\n0${ext}\r\n\r\n`);
    assert.equal(result.body, "hello", JSON.stringify(ext));
    assert.equal(result.done, true);
  }
});

Deno.test("chunked: malformed chunk extensions are 400", () => {
  for (
    const ext of [
      ";",
      "; ",
      ";=b",
      ";a=",
      ";a= ",
      ";a=b c",
      " x",
      " 5",
      ";a==b",
      ';a="unterminated',
      ";a=\x01",
      ';a="\x7f"',
      ";a\x00",
      ";a(b)",
      ';a=b"c"',
    ]
  ) {
    refused(`5${ext}\r\nhello\r\n0\r\n\r\n`, 400);
  }
});

Deno.test("chunked: a chunk-size line over 4 KiB is 400", () => {
  refused(`5;a="${"x".repeat(4096)}"\r\nhello\r\n0\r\n\r\n`, 400);
  refused(`${"0".repeat(4097)}5\r\nhello\r\n0\r\n\r\n`, 400);
  assert.equal(decoded(`5;a="${"x".repeat(4000)}"\r\nhello\r\n0\r\n\r\n`).body, "hello");
});

Deno.test("chunked: an invalid chunk size is 400", () => {
  for (const size of ["", "g", "-1", "0x5", "+5", " 5", "5 5"]) {
    refused(`${size}\r\nhello\r\n0\r\n\r\n`, 400);
  }
});

Deno.test("chunked: a chunk size beyond 2^52 is 400 (no precision loss)", () => {
  refused("fffffffffffffff\r\n", 400);
  refused("10000000000001\r\n", 400);
});

Deno.test("chunked: a size line ended by a bare LF, or a bare CR, is 400", () => {
  refused("5\nhello\r\n0\r\n\r\n", 400);
  refused("5\rhello\r\n0\r\n\r\n", 400);
});

Deno.test("chunked: data longer than its size is 400", () => {
  refused("3\r\nhello\r\n0\r\n\r\n", 400);
});

Deno.test("chunked: data not followed by CRLF is 400", () => {
  refused("5\r\nhello\n0\r\n\r\n", 400);
  refused("5\r\nhello\r0\r\n\r\n", 400);
});

Deno.test("chunked: trailer fields are parsed and dropped, never part of the body", () => {
  const input = "5\r\nhello\r\n0\r\nX-Trailer: 1\r\nChecksum: abc def\r\n\r\nNEXT";
  const result = decoded(input);
  assert.equal(result.body, "hello");
  assert.equal(result.done, true);
  assert.equal(result.used, input.indexOf("NEXT"));
});

Deno.test("chunked: malformed trailer fields are 400", () => {
  for (
    const trailer of [" X: 1", "X : 1", "X: a\x01b", "X", ": 1", "X(: 1", "X: 1\n", "X: 1\rY"]
  ) {
    refused(`0\r\n${trailer}\r\n\r\n`, 400);
  }
});

Deno.test("chunked: a trailer section over 64 KiB is 431", () => {
  refused(`0\r\nX: ${"a".repeat(64 * 1024)}\r\n\r\n`, 431);
  assert.equal(decoded(`0\r\nX: ${"a".repeat(60 * 1024)}\r\n\r\n`).done, true);
});

Deno.test("chunked: more than 100 trailer fields is 431", () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `T${i}: v\r\n`).join("");
  refused(`0\r\n${fields(101)}\r\n`, 431);
  assert.equal(decoded(`0\r\n${fields(100)}\r\n`).done, true);
});

Deno.test("chunked: a bare CR or anything but LF after the last chunk's blank line is 400", () => {
  refused("0\r\n\rX", 400);
  refused("0\r\n\n", 400);
});

Deno.test("chunked: a body over maxBody is 413 as soon as a chunk size declares it", () => {
  refused("a\r\n", 413, 9);
  refused("5\r\nhello\r\n5\r\n", 413, 9);
  assert.equal(decoded("5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", 9).body, "helloabcd");
});

Deno.test("chunked: maxBody Infinity means unbounded", () => {
  assert.equal(decoded("100000\r\n", Infinity).done, false);
});

Deno.test("chunked: feeding after the end consumes nothing", () => {
  const decoder = new ChunkedDecoder(Infinity);
  const buf = bytes("0\r\n\r\n0\r\n\r\n");
  assert.equal(decoder.feed(buf, 0, buf.length), 5);
  assert.equal(decoder.feed(buf, 5, buf.length), 5);
  assert.equal(decoder.dataEnd, 5, "no data");
  assert.equal(decoder.done, true);
});

Deno.test("chunked: data is decoded in place, over the framing, with no array per chunk (issue 13 item 1)", () => {
  const buf = bytes("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\nNEXT");
  const decoder = new ChunkedDecoder(Infinity);
  const used = decoder.feed(buf, 0, buf.length);
  assert.equal(text(buf.subarray(0, decoder.dataEnd)), "hello world");
  assert.equal(text(buf.subarray(used as number)), "NEXT", "bytes after the body untouched");
});

Deno.test("chunked: framing is bounded relative to the data: one-byte chunks pass, extension floods are 400 (issue 13 item 1)", () => {
  const ones = "1\r\nx\r\n".repeat(100_000) + "0\r\n\r\n";
  assert.equal(decoded(ones).body.length, 100_000);
  const flood = `1;${"e".repeat(4000)}\r\nx\r\n`.repeat(100) + "0\r\n\r\n";
  const result = decode(flood);
  assert.ok(result instanceof ProtocolError, "refused");
  assert.equal(result.status, 400);
  assert.match(result.reason, /framing/);
});

Deno.test("chunked: byte-at-a-time feeding gives the same body and end", () => {
  const input = '4;x="y"\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: v\r\n\r\nREST';
  const buf = bytes(input);
  const decoder = new ChunkedDecoder(Infinity);
  let body = "";
  let at = 0;
  while (!decoder.done) {
    const used = decoder.feed(buf, at, at + 1);
    assert.ok(!(used instanceof ProtocolError), `error at ${at}`);
    body += text(buf.subarray(at, decoder.dataEnd));
    at = used === at ? at + 1 : used;
  }
  assert.equal(body, "wikipedia in\r\n\r\nchunks.");
  assert.equal(at, input.indexOf("REST"));
});

Deno.test("writeChunkSize: the size in lower-case hex and CRLF, after what precedes it", () => {
  for (
    const size of [0, 1, 9, 10, 15, 16, 255, 256, 4096, 65535, 2 ** 40, Number.MAX_SAFE_INTEGER]
  ) {
    const out = new Uint8Array(MAX_CHUNK_SIZE_LINE + 3).fill(0xff);
    const end = writeChunkSize(out, 3, size);
    const line = String.fromCharCode(...out.subarray(3, end));
    assert.equal(line, size.toString(16) + "\r\n");
    assert.ok(end - 3 <= MAX_CHUNK_SIZE_LINE);
    assert.deepEqual([...out.subarray(0, 3)], [0xff, 0xff, 0xff]);
  }
});
