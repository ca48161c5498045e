/**
 * Property tests of the sans-IO core with fast-check: however the bytes are split across reads,
 * the parsers see the same requests; N pipelined requests give N heads; random bytes never make
 * them throw or hang; serialised heads always have sound framing.
 */
import "../../lib/http/node_reasons.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder } from "../../lib/http/chunked.ts";
import { ProtocolError } from "../../lib/http/error.ts";
import {
  checkPartialHead,
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  type HeadLimits,
  parseHead,
  type RequestHead,
} from "../../lib/http/head.ts";
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, BODY_UNTIL_CLOSE } from "../../lib/http/response.ts";
import { headText } from "../_helpers/head_text.ts";

const RUNS = 300;
const CR = 13;
const LF = 10;

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function str(buf: Uint8Array): string {
  let s = "";
  for (const b of buf) s += String.fromCharCode(b);
  return s;
}

/** `input` cut at the given points (taken modulo its length, sorted, deduplicated). */
function split(input: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) parts.push(input.subarray(at, p));
    at = Math.max(at, p);
  }
  if (at < input.length) parts.push(input.subarray(at));
  return parts;
}

/** What the reading side saw: each request (head facts and decoded body), then how it stopped. */
interface Outcome {
  requests: (RequestHead & { body: string })[];
  /** The status of the error that stopped reading, or 0. */
  error: number;
  /** Bytes left unparsed at the end (an incomplete head or body). */
  leftover: number;
}

/**
 * Drives the parsers the way `Connection` does: one growing buffer, leading CR/LF skipped,
 * `parseHead` tried at once (given the previous head), then after a miss only once `findHeadEnd`
 * (resumed 3 bytes before the old end) finds the head's end, `checkPartialHead` on incomplete heads,
 * bodies taken by Content-Length or by a `ChunkedDecoder`. With `compact`, consumed bytes are
 * dropped before each read (shifting every offset, as `#ensureSpace` does); the spare capacity
 * past `end` is always filled with blank lines, which nothing may look at.
 */
function drive(
  chunks: Uint8Array[],
  compact = false,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): Outcome {
  const outcome: Outcome = { requests: [], error: 0, leftover: 0 };
  let buf = new Uint8Array(0);
  let start = 0;
  let end = 0;
  let scanFrom = -1;
  let previous: RequestHead | null = null;
  let body: { remaining: number; decoder: ChunkedDecoder | null; parts: Uint8Array[] } | null =
    null;
  const stale = bytes("\r\n\r\n0\r\n\r\n");

  for (const chunk of chunks) {
    // Read: append `chunk`, maybe compacting first, leaving stale bytes past the end.
    const keep = compact ? buf.subarray(start, end) : buf.subarray(0, end);
    const shift = compact ? start : 0;
    const next = new Uint8Array(keep.length + chunk.length + 16);
    next.set(keep);
    next.set(chunk, keep.length);
    for (let i = keep.length + chunk.length; i < next.length; i++) {
      next[i] = stale[i % stale.length];
    }
    buf = next;
    start -= shift;
    if (scanFrom >= 0) scanFrom = Math.max(start, scanFrom - shift);
    end = keep.length + chunk.length;

    for (;;) {
      if (body !== null) {
        if (body.decoder === null) {
          const n = Math.min(body.remaining, end - start);
          body.parts.push(buf.slice(start, start + n));
          start += n;
          body.remaining -= n;
          if (body.remaining > 0) break;
        } else {
          const used = body.decoder.feed(buf, start, end);
          if (used instanceof ProtocolError) {
            outcome.error = used.status;
            return outcome;
          }
          // The data was decoded in place: copy it before the next read.
          body.parts.push(buf.slice(start, body.decoder.dataEnd));
          start = used;
          if (!body.decoder.done) break;
        }
        outcome.requests[outcome.requests.length - 1].body = body.parts.map(str).join("");
        body = null;
      }
      while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
      if (start === end) break;
      const head: RequestHead | ProtocolError | null = scanFrom < 0 ||
          findHeadEnd(buf, start, scanFrom, end) > 0
        ? parseHead(buf, start, end, limits, previous)
        : null;
      if (head === null) {
        const tooBig = checkPartialHead(buf, start, end, limits);
        if (tooBig !== null) {
          outcome.error = tooBig.status;
          return outcome;
        }
        scanFrom = Math.max(start, end - 3);
        break;
      }
      if (head instanceof ProtocolError) {
        outcome.error = head.status;
        return outcome;
      }
      const { method, target, minor, names, values, host, contentLength, chunked } = head;
      const { close, keepAlive, upgrade, expectContinue, size } = head;
      outcome.requests.push({
        method,
        target,
        minor,
        names,
        values,
        host,
        contentLength,
        chunked,
        close,
        keepAlive,
        upgrade,
        expectContinue,
        size,
        body: "",
      });
      start += size;
      scanFrom = -1;
      previous = head;
      if (chunked) body = { remaining: -1, decoder: new ChunkedDecoder(Infinity), parts: [] };
      else if (contentLength > 0) body = { remaining: contentLength, decoder: null, parts: [] };
    }
  }
  outcome.leftover = end - start;
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Generators

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const token = (max: number) =>
  fc.array(fc.constantFrom(...TCHARS), { minLength: 1, maxLength: max }).map((a) => a.join(""));
/** Field-value bytes: VCHAR, SP, HTAB and obs-text. */
const valueChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(0x20, 0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
).map((c) => String.fromCharCode(c));
const fieldValue = fc.array(valueChar, { maxLength: 40 }).map((a) => a.join(""));
const SPECIAL = new Set(["host", "content-length", "transfer-encoding", "expect", "connection"]);
const field = fc.tuple(token(20), fieldValue).filter(([name]) => !SPECIAL.has(name.toLowerCase()));
const pathChars = "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%/?";
const path = fc.array(fc.constantFrom(...pathChars), { maxLength: 30 }).map((a) =>
  "/" + a.join("")
);
/** Body bytes, CR and LF included. */
const bodyText = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(CR, LF, 0x30)),
  { maxLength: 200 },
).map((a) => String.fromCharCode(...a));

interface GeneratedRequest {
  text: string;
  method: string;
  target: string;
  body: string;
  names: string[];
  values: string[];
}

/** Splits `body` into chunks of the given sizes, with optional extensions and trailers. */
function chunkedEncoding(
  body: string,
  sizes: number[],
  ext: string,
  trailers: [string, string][],
): string {
  let out = "";
  let at = 0;
  for (const size of sizes) {
    if (at >= body.length) break;
    const piece = body.slice(at, at + Math.max(1, size));
    out += piece.length.toString(16) + ext + "\r\n" + piece + "\r\n";
    at += piece.length;
  }
  if (at < body.length) out += (body.length - at).toString(16) + "\r\n" + body.slice(at) + "\r\n";
  out += "0" + ext + "\r\n";
  for (const [name, value] of trailers) out += `${name}: ${value}\r\n`;
  return out + "\r\n";
}

const request: fc.Arbitrary<GeneratedRequest> = fc.record({
  method: fc.oneof(
    fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
    token(10),
  ),
  target: fc.oneof({ weight: 5, arbitrary: path }, {
    weight: 1,
    arbitrary: path.map((p) => "http://example.com" + p),
  }),
  minor: fc.constantFrom(0, 1),
  fields: fc.array(field, { maxLength: 6 }),
  framing: fc.constantFrom("none", "length", "chunked"),
  body: bodyText,
  sizes: fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 6 }),
  ext: fc.constantFrom("", ";a=b", ' ; q="x\\"y"'),
  trailers: fc.array(field, { maxLength: 2 }),
  leadingBlank: fc.constantFrom("", "", "\r\n"),
}).map((r) => {
  const framing = r.minor === 0 && r.framing === "chunked" ? "length" : r.framing;
  let text = `${r.leadingBlank}${r.method} ${r.target} HTTP/1.${r.minor}\r\n`;
  const names: string[] = [];
  const values: string[] = [];
  const add = (name: string, value: string) => {
    text += `${name}: ${value}\r\n`;
    names.push(name.toLowerCase());
    values.push(value.replace(/^[ \t]+|[ \t]+$/g, ""));
  };
  if (r.minor === 1) add("Host", "example.com");
  for (const [name, value] of r.fields) add(name, value);
  let body = "";
  if (framing === "length") {
    body = r.body;
    add("Content-Length", String(body.length));
    text += "\r\n" + body;
  } else if (framing === "chunked") {
    body = r.body;
    add("Transfer-Encoding", "chunked");
    text += "\r\n" + chunkedEncoding(body, r.sizes, r.ext, r.trailers);
  } else {
    text += "\r\n";
  }
  return { text, method: r.method, target: r.target, body, names, values };
});

const cuts = fc.array(fc.nat(), { maxLength: 12 });

// ---------------------------------------------------------------------------------------------
// Properties

Deno.test("property: any split of a pipeline parses like the whole", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 4 }),
      cuts,
      fc.boolean(),
      (requests, at, compact) => {
        const input = bytes(requests.map((r) => r.text).join(""));
        const whole = drive([input]);
        assert.deepEqual(drive(split(input, at), compact), whole);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: a head parses the same whatever head came before it", () => {
  fc.assert(
    fc.property(request, request, (before, after) => {
      const parse = (text: string, previous: RequestHead | null) =>
        parseHead(bytes(text), 0, text.length, DEFAULT_HEAD_LIMITS, previous);
      const previous = parse(before.text.trimStart(), null);
      assert.ok(previous !== null && !(previous instanceof ProtocolError));
      const text = after.text.trimStart();
      assert.deepEqual(parse(text, previous), parse(text, null));
      // The same request again (every value reusable) also parses like the first time.
      assert.deepEqual(parse(before.text.trimStart(), previous), previous);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("property: byte-at-a-time reads parse like the whole", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 2 }),
      fc.boolean(),
      (requests, compact) => {
        const input = bytes(requests.map((r) => r.text).join(""));
        const single = Array.from(input, (_, i) => input.subarray(i, i + 1));
        assert.deepEqual(drive(single, compact), drive([input]));
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("property: N pipelined requests give N heads, in order, with their bodies", () => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), cuts, (requests, at) => {
      const input = bytes(requests.map((r) => r.text).join(""));
      const outcome = drive(split(input, at));
      assert.equal(outcome.error, 0);
      assert.equal(outcome.leftover, 0);
      assert.equal(outcome.requests.length, requests.length);
      requests.forEach((expected, i) => {
        const got = outcome.requests[i];
        assert.equal(got.method, expected.method);
        assert.equal(got.target, expected.target);
        assert.deepEqual(got.names, expected.names);
        assert.deepEqual(got.values, expected.values);
        assert.equal(got.body, expected.body);
      });
    }),
    { numRuns: RUNS },
  );
});

/** Pieces of HTTP syntax, so random inputs reach deep into the parsers. */
const fragment = fc.oneof(
  fc.constantFrom(
    "GET ",
    "POST ",
    "HEAD ",
    "OPTIONS ",
    "* ",
    "/ ",
    "/a?b ",
    "http://h/ ",
    " HTTP/1.1",
    " HTTP/1.0",
    " HTTP/2.0",
    "\r\n",
    "\r\n\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    ":",
    ": ",
    "Host: h\r\n",
    "Content-Length: ",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip\r\n",
    "Connection: close\r\n",
    "Expect: 100-continue\r\n",
    "Expect: x\r\n",
    "0",
    "5",
    "a",
    "ff",
    "0\r\n\r\n",
    "5\r\nhello\r\n",
    ";x=y",
    '"',
    "\\",
    ",",
    "\x00",
    "\x7f",
    "\xe9",
  ),
  fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
);
const soup = fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(""));
/** Valid pipelines with a few random splices: deletions, insertions of syntax pieces. */
const mutated = fc.tuple(
  fc.array(request, { minLength: 1, maxLength: 3 }),
  fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fragment), { minLength: 1, maxLength: 3 }),
).map(([requests, edits]) => {
  let text = requests.map((r) => r.text).join("");
  for (const [at, remove, insert] of edits) {
    const i = at % (text.length + 1);
    text = text.slice(0, i) + insert + text.slice(i + remove);
  }
  return text;
});
const noisy = fc.oneof(soup, mutated, mutated).map(bytes);

Deno.test("property: random bytes never throw, and any split reads them like the whole", () => {
  fc.assert(
    fc.property(noisy, cuts, fc.boolean(), (input, at, compact) => {
      const whole = drive([input]);
      assert.ok(whole.error === 0 || (whole.error >= 400 && whole.error <= 505));
      assert.deepEqual(drive(split(input, at), compact), whole);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: uniformly random bytes never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), cuts, (input, at) => {
      drive(split(input, at));
      drive(split(input, at), true, { maxRequestLine: 16, maxHeaderBytes: 64, maxHeaderFields: 3 });
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: ChunkedDecoder over any split gives the same body and end", () => {
  fc.assert(
    fc.property(
      bodyText,
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
      fc.constantFrom("", ";a", ";a=b;c", ' ;n = "v\\\\"'),
      fc.array(field, { maxLength: 3 }),
      cuts,
      (body, sizes, ext, trailers, at) => {
        const encoded = chunkedEncoding(body, sizes, ext, trailers);
        const input = bytes(encoded + "NEXT");
        const decoder = new ChunkedDecoder(Infinity);
        const parts: Uint8Array[] = [];
        let offset = 0;
        for (const piece of split(input, at)) {
          const base = offset;
          offset += piece.length;
          if (decoder.done) continue;
          const used = decoder.feed(input, base, base + piece.length);
          assert.ok(!(used instanceof ProtocolError), `refused: ${JSON.stringify(encoded)}`);
          parts.push(input.slice(base, decoder.dataEnd));
          if (decoder.done) {
            assert.equal(used, encoded.length);
          } else {
            assert.equal(used, base + piece.length);
          }
        }
        assert.ok(decoder.done);
        assert.equal(parts.map(str).join(""), body);
        assert.equal(decoder.received, body.length);
      },
    ),
    { numRuns: RUNS },
  );
});

/** A body limit: none, or a small one that bodies run into. */
const maxBodies = fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 64 }));

Deno.test("property: ChunkedDecoder on random bytes never throws and stays in bounds", () => {
  const chunkSoup = fc.array(
    fc.oneof(
      fc.constantFrom(
        "0",
        "5",
        "a",
        "F",
        "\r\n",
        "\r",
        "\n",
        ";",
        "=",
        '"',
        "\\",
        " ",
        "x",
        ":",
        "hello",
      ),
      fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    ),
    { maxLength: 80 },
  ).map((parts) => bytes(parts.join("")));
  fc.assert(
    fc.property(chunkSoup, cuts, maxBodies, (input, at, maxBody) => {
      const decoder = new ChunkedDecoder(maxBody);
      let offset = 0;
      for (const piece of split(input, at)) {
        const used = decoder.feed(input, offset, offset + piece.length);
        if (used instanceof ProtocolError) {
          assert.ok([400, 413, 431].includes(used.status));
          return;
        }
        assert.ok(used >= offset && used <= offset + piece.length);
        // Decoded data never reaches past what was consumed.
        assert.ok(decoder.dataEnd >= offset && decoder.dataEnd <= used);
        if (decoder.done) return;
        offset += piece.length;
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: serialised heads always have sound framing", () => {
  const headerEntry = fc.tuple(
    token(12).filter((n) =>
      !["connection", "content-length", "transfer-encoding", "keep-alive"].includes(n.toLowerCase())
    ),
    fc.array(fc.integer({ min: 0x21, max: 0x7e }), { minLength: 1, maxLength: 20 }).map((a) =>
      String.fromCharCode(...a)
    ),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(200, 201, 204, 206, 301, 304, 404, 500, 599),
      fc.array(headerEntry, { maxLength: 5 }),
      fc.option(fc.nat({ max: 10_000 }), { nil: undefined }),
      fc.constantFrom(-2, -1, 0, 1, 17, 70_000),
      fc.record({ minor: fc.constantFrom(0, 1), head: fc.boolean(), keepAlive: fc.boolean() }),
      (status, entries, declared, bodyLength, ctx) => {
        const headers = new Headers();
        for (const [name, value] of entries) headers.append(name, value);
        if (declared !== undefined) headers.set("content-length", String(declared));
        const plan = headText(status, headers, bodyLength, { ...ctx, date: "D", server: "S" });
        const text = plan.text;
        assert.ok(text.endsWith("\r\n\r\n"));
        assert.ok(text.startsWith(`HTTP/1.${ctx.minor} ${status} `));
        const lines = text.slice(0, -4).split("\r\n");
        for (const line of lines) assert.ok(!line.includes("\n") && !line.includes("\r"));
        const names = lines.slice(1).map((l) => l.slice(0, l.indexOf(":")));
        const count = (n: string) => names.filter((x) => x === n).length;
        assert.ok(count("content-length") + count("transfer-encoding") <= 1, text);
        assert.ok(count("date") === 1 && count("server") === 1 && count("connection") <= 1);
        const noBody = status === 204 || status === 304;
        if (noBody || ctx.head) assert.equal(plan.mode, BODY_NONE);
        if (noBody) assert.equal(count("transfer-encoding"), 0);
        if (status === 204) assert.equal(count("content-length"), 0);
        if (plan.mode === BODY_LENGTH) {
          assert.ok(text.includes(`content-length: ${plan.contentLength}\r\n`));
          if (bodyLength >= 0) assert.equal(plan.contentLength, bodyLength);
        }
        if (plan.mode === BODY_CHUNKED) assert.equal(ctx.minor, 1);
        if (plan.mode === BODY_UNTIL_CLOSE) assert.equal(plan.keepAlive, false);
        assert.equal(
          count("connection") === 1 && text.includes("connection: close"),
          !plan.keepAlive,
        );
        if (!ctx.keepAlive) assert.equal(plan.keepAlive, false);
      },
    ),
    { numRuns: RUNS },
  );
});
