import assert from "node:assert/strict";
import { MAX_FRAGMENTS, MessageAssembler } from "../../lib/websocket/assembler.ts";
import {
  decodeClosePayload,
  encodeClosePayload,
  isSendableCloseCode,
  ProtocolViolation,
} from "../../lib/websocket/close.ts";
import { MessageDeflater, MessageInflater } from "../../lib/websocket/deflate.ts";
import { negotiateDeflate } from "../../lib/websocket/deflate_negotiation.ts";
import { parseExtensionHeader } from "../../lib/websocket/extension_header.ts";
import { applyMask, encodeFrame, type Frame, Opcode } from "../../lib/websocket/frame.ts";
import { GuardedEventTarget } from "../../lib/websocket/guarded_event_target.ts";
import { acceptKey, checkHandshake } from "../../lib/websocket/handshake.ts";
import { upgradeWebSocket, websocketHandshakeError } from "../../lib/websocket/mod.ts";
import { FrameParser } from "../../lib/websocket/parser.ts";
import { Sender } from "../../lib/websocket/sender.ts";
import { sha1 } from "../../lib/websocket/sha1.ts";
import { TransformPump } from "../../lib/websocket/transform_pump.ts";
import { clientFrame, concat, handshakeHeaders } from "../_helpers/websocket_fixture.ts";

const encoder = new TextEncoder();
const MASK = new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4]);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** A deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

function parseAll(
  chunks: Uint8Array[],
  options = { maxPayload: 1 << 24, allowRsv1: false },
): (Frame | ProtocolViolation)[] {
  const parser = new FrameParser(options);
  const out: (Frame | ProtocolViolation)[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let frame = parser.next(); frame !== null; frame = parser.next()) out.push(frame);
  }
  return out;
}

function violationOf(bytes: Uint8Array, options?: { maxPayload: number; allowRsv1: boolean }) {
  const result = parseAll([bytes], options).at(-1);
  assert.ok(
    result instanceof ProtocolViolation,
    `expected a violation, got ${JSON.stringify(result)}`,
  );
  return result.code;
}

Deno.test("sha1 matches crypto.subtle around block boundaries", async () => {
  const random = prng(1);
  for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65_537]) {
    const data = new Uint8Array(length).map(() => random() * 256);
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
    assert.equal(hex(sha1(data)), hex(expected), `length ${length}`);
  }
  assert.equal(hex(sha1(encoder.encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

Deno.test("acceptKey reproduces the RFC 6455 example", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("frames use 7-, 16- and 64-bit lengths at the right boundaries", () => {
  const cases: [number, number[]][] = [
    [0, [0x82, 0x00]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0x00, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ];
  for (const [length, header] of cases) {
    const payload = new Uint8Array(length).map((_, i) => i);
    const bytes = encodeFrame({ opcode: Opcode.Binary, payload });
    assert.deepEqual([...bytes.subarray(0, header.length)], header, `length ${length}`);
    assert.equal(bytes.length, header.length + length);
    const masked = encodeFrame({ opcode: Opcode.Binary, payload, mask: MASK });
    assert.equal(masked[1] & 0x80, 0x80);
    const [frame] = parseAll([masked]) as Frame[];
    assert.deepEqual(frame.payload, payload);
    assert.equal(frame.fin, true);
    assert.equal(frame.opcode, Opcode.Binary);
  }
});

Deno.test("masking is the RFC's XOR whatever the alignment", () => {
  const data = new Uint8Array(103).map((_, i) => i * 3);
  for (let offset = 0; offset < 8; offset++) {
    for (const length of [0, 1, 3, 4, 5, 17, 95]) {
      const buffer = new Uint8Array(128);
      buffer.set(data.subarray(0, length), offset);
      const view = buffer.subarray(offset, offset + length);
      applyMask(view, MASK);
      const expected = data.subarray(0, length).map((b, i) => b ^ MASK[i % 4]);
      assert.deepEqual(view, expected, `offset ${offset}, length ${length}`);
    }
  }
  // The example of RFC 6455 §5.7: a masked "Hello".
  const hello = clientFrame(Opcode.Text, "Hello", {
    mask: new Uint8Array([0x37, 0xfa, 0x21, 0x3d]),
  });
  assert.equal(hex(hello), "818537fa213d7f9f4d5158");
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Text, payload: encoder.encode("Hello") }),
    new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
  );
});

Deno.test("any split of the input yields the same frames", () => {
  const stream = concat([
    clientFrame(Opcode.Text, "Hel", { fin: false }),
    clientFrame(Opcode.Ping, "!"),
    clientFrame(Opcode.Continuation, "lo"),
    clientFrame(Opcode.Binary, new Uint8Array(130).fill(7)),
    clientFrame(Opcode.Close, new Uint8Array([0x03, 0xe8])),
  ]);
  const expected = parseAll([stream]);
  assert.equal(expected.length, 5);
  const same = (chunks: Uint8Array[]) => assert.deepEqual(parseAll(chunks), expected);
  same(Array.from(stream, (byte) => new Uint8Array([byte])));
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j += 7) {
      same([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
    }
  }
  const big = concat([clientFrame(Opcode.Binary, new Uint8Array(70_000).map((_, i) => i)), stream]);
  const bigExpected = parseAll([big]);
  const random = prng(42);
  for (let round = 0; round < 20; round++) {
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < big.length;) {
      const size = Math.ceil(random() * 9000);
      chunks.push(big.subarray(offset, offset + size));
      offset += size;
    }
    assert.deepEqual(parseAll(chunks), bigExpected);
  }
});

Deno.test("the parser copies its input, so a reused read buffer is safe", () => {
  const parser = new FrameParser({ maxPayload: 1024, allowRsv1: false });
  const frame = clientFrame(Opcode.Text, "abc");
  const buffer = new Uint8Array(frame.length);
  buffer.set(frame.subarray(0, 4));
  parser.push(buffer.subarray(0, 4));
  buffer.fill(0);
  buffer.set(frame.subarray(4));
  parser.push(buffer.subarray(0, frame.length - 4));
  buffer.fill(0);
  const parsed = parser.next() as Frame;
  assert.equal(new TextDecoder().decode(parsed.payload), "abc");
  assert.equal(parser.next(), null);
});

Deno.test("frame-level violations map to their close codes", () => {
  const options = { maxPayload: 100, allowRsv1: false };
  const rsv = (bits: number) => {
    const frame = clientFrame(Opcode.Text, "x");
    frame[0] |= bits;
    return frame;
  };
  assert.equal(violationOf(clientFrame(Opcode.Text, "x", { mask: null })), 1002);
  assert.equal(violationOf(rsv(0x40)), 1002);
  assert.equal(violationOf(rsv(0x20)), 1002);
  assert.equal(violationOf(rsv(0x10)), 1002);
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assert.equal(violationOf(clientFrame(opcode as Opcode, "x")), 1002, `opcode ${opcode}`);
  }
  assert.equal(violationOf(clientFrame(Opcode.Ping, new Uint8Array(126))), 1002);
  assert.equal(violationOf(clientFrame(Opcode.Close, "x", { fin: false })), 1002);
  assert.equal(violationOf(clientFrame(Opcode.Binary, new Uint8Array(101)), options), 1009);
  // A huge declared length is refused from the header alone, without waiting for the payload.
  const huge = new Uint8Array([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal(violationOf(huge, options), 1009);
  const topBit = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal(violationOf(topBit), 1002);
  // RSV1 with deflate: fine on a data frame, not on a continuation or control frame.
  const deflate = { maxPayload: 100, allowRsv1: true };
  assert.equal(
    (parseAll([clientFrame(Opcode.Text, "x", { rsv1: true })], deflate)[0] as Frame).rsv1,
    true,
  );
  assert.equal(violationOf(clientFrame(Opcode.Continuation, "x", { rsv1: true }), deflate), 1002);
  assert.equal(violationOf(clientFrame(Opcode.Ping, "x", { rsv1: true }), deflate), 1002);
  // After a violation the parser stays silent.
  const parser = new FrameParser(options);
  parser.push(clientFrame(Opcode.Text, "x", { mask: null }));
  assert.ok(parser.next() instanceof ProtocolViolation);
  parser.push(clientFrame(Opcode.Text, "x"));
  assert.equal(parser.next(), null);
});

Deno.test("the assembler joins fragments around control frames", () => {
  const assembler = new MessageAssembler(10);
  const frame = (opcode: Opcode, text: string, fin = true): Frame => ({
    fin,
    rsv1: false,
    opcode,
    payload: encoder.encode(text),
  });
  assert.equal(assembler.accept(frame(Opcode.Text, "ab", false)), null);
  assert.deepEqual(assembler.accept(frame(Opcode.Ping, "p")), {
    type: "ping",
    payload: encoder.encode("p"),
  });
  assert.equal(assembler.accept(frame(Opcode.Continuation, "cd", false)), null);
  assert.deepEqual(assembler.accept(frame(Opcode.Pong, "")), {
    type: "pong",
    payload: encoder.encode(""),
  });
  assert.deepEqual(assembler.accept(frame(Opcode.Continuation, "ef")), {
    type: "message",
    text: true,
    compressed: false,
    payload: encoder.encode("abcdef"),
  });
  const violation = (result: unknown) => (result as ProtocolViolation).code;
  assert.equal(violation(assembler.accept(frame(Opcode.Continuation, "x"))), 1002);
  assembler.accept(frame(Opcode.Binary, "x", false));
  assert.equal(violation(assembler.accept(frame(Opcode.Text, "y"))), 1002);
  const sized = new MessageAssembler(10);
  assert.equal(sized.accept(frame(Opcode.Binary, "0123456789", false)), null);
  assert.equal(violation(sized.accept(frame(Opcode.Continuation, "!"))), 1009);
});

Deno.test("close payloads: codes validated, reasons UTF-8", () => {
  assert.deepEqual(decodeClosePayload(new Uint8Array()), { code: 1005, reason: "" });
  assert.deepEqual(decodeClosePayload(encodeClosePayload(4000, "é")), { code: 4000, reason: "é" });
  assert.equal((decodeClosePayload(new Uint8Array([3])) as ProtocolViolation).code, 1002);
  assert.equal(
    (decodeClosePayload(new Uint8Array([0x03, 0xe8, 0xc0, 0x80])) as ProtocolViolation).code,
    1007,
  );
  const sendable = [
    1000,
    1001,
    1002,
    1003,
    1007,
    1008,
    1009,
    1010,
    1011,
    1012,
    1013,
    1014,
    3000,
    4999,
  ];
  const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
  for (const code of sendable) assert.equal(isSendableCloseCode(code), true, `${code}`);
  for (const code of invalid) {
    assert.equal(isSendableCloseCode(code), false, `${code}`);
    const result = decodeClosePayload(new Uint8Array([code >> 8, code & 0xff]));
    assert.equal((result as ProtocolViolation).code, 1002, `${code}`);
  }
  assert.equal(encodeClosePayload().length, 0);
});

Deno.test("extension headers parse, including quoted values", () => {
  assert.deepEqual(
    parseExtensionHeader('permessage-deflate; client_max_window_bits="10" , x-foo;a;b=c'),
    [
      { name: "permessage-deflate", params: [["client_max_window_bits", "10"]] },
      { name: "x-foo", params: [["a", true], ["b", "c"]] },
    ],
  );
  for (const bad of ["", ";", "a;", "a;=1", "a;b=", 'a;b="1', "a b", "a,"]) {
    assert.equal(parseExtensionHeader(bad), undefined, bad);
  }
});

Deno.test("permessage-deflate negotiation accepts what CompressionStream can honour", () => {
  const header = (offer: string | null) => negotiateDeflate(offer)?.header ?? null;
  assert.equal(header(null), null);
  assert.equal(header("x-webkit-deflate-frame"), null);
  assert.equal(header("permessage-deflate"), "permessage-deflate");
  assert.equal(header("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  assert.equal(header("permessage-deflate; client_max_window_bits=9"), "permessage-deflate");
  assert.equal(
    header("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  assert.equal(
    header('permessage-deflate; server_max_window_bits="15"'),
    "permessage-deflate; server_max_window_bits=15",
  );
  // Declined offers: a window we cannot shrink, invalid or repeated or unknown parameters.
  for (
    const offer of [
      "permessage-deflate; server_max_window_bits=10",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=08",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; mystery",
      "permessage-deflate;;",
    ]
  ) {
    assert.equal(header(offer), null, offer);
  }
  // The first acceptable offer wins.
  assert.equal(
    header(
      "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_no_context_takeover",
    ),
    "permessage-deflate; client_no_context_takeover",
  );
  assert.deepEqual(negotiateDeflate("permessage-deflate; client_no_context_takeover")?.params, {
    serverNoContextTakeover: false,
    clientNoContextTakeover: true,
  });
});

Deno.test("TransformPump tells 'no output' apart without hanging", async () => {
  const pump = new TransformPump(new DecompressionStream("deflate-raw"));
  try {
    // A partial stored-block header produces nothing yet.
    assert.equal((await pump.push(new Uint8Array([0x00]))).length, 0);
    assert.equal((await pump.push(new Uint8Array([0x02, 0x00, 0xfd, 0xff, 0x68, 0x69]))).length, 2);
  } finally {
    pump.close();
  }
});

Deno.test("deflate and inflate round-trip messages, with and without context takeover", async () => {
  for (const noContextTakeover of [false, true]) {
    const deflater = new MessageDeflater(noContextTakeover);
    const inflater = new MessageInflater(noContextTakeover);
    try {
      const sizes: number[] = [];
      // Incompressible on its own, so only context takeover can shrink its repetitions.
      const random = prng(7);
      const noise = new Uint8Array(2000).map(() => random() * 256);
      for (let i = 0; i < 4; i++) {
        const message = concat([encoder.encode(`#${i} `), noise]);
        const compressed = await deflater.deflate(message);
        sizes.push(compressed.length);
        // RFC 7692 §7.2.1: the trailing 00 00 ff ff is stripped on the wire.
        assert.notEqual(hex(compressed.subarray(-4)), "0000ffff");
        assert.deepEqual(await inflater.inflate(compressed, 1 << 20), message);
      }
      // Context takeover makes content seen in an earlier message nearly free.
      if (!noContextTakeover) assert.ok(sizes[1] < sizes[0] / 10, `${sizes}`);
      else assert.ok(sizes[1] > 2000, `${sizes}`);
      assert.deepEqual(
        await inflater.inflate(await deflater.deflate(new Uint8Array()), 10),
        new Uint8Array(),
      );
    } finally {
      deflater.close();
      inflater.close();
    }
  }
});

Deno.test("inflating stops at the size limit and rejects corrupt data", async () => {
  const deflater = new MessageDeflater(true);
  const bomb = await deflater.deflate(new Uint8Array(50 * 1024 * 1024));
  assert.ok(bomb.length < 100_000);
  const inflater = new MessageInflater(false);
  assert.equal(await inflater.inflate(bomb, 1024 * 1024), undefined);
  await assert.rejects(inflater.inflate(new Uint8Array([0xff, 0xff, 0xff]), 1024));
  inflater.close();
  deflater.close();
});

Deno.test("a message ending in a final (BFINAL) block inflates, and the next one too", async () => {
  const finished = async (text: string) =>
    new Uint8Array(
      await new Response(
        new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw")),
      ).arrayBuffer(),
    );
  const inflater = new MessageInflater(false);
  try {
    for (const text of ["first message", "second message"]) {
      const inflated = await inflater.inflate(await finished(text), 1024);
      assert.equal(new TextDecoder().decode(inflated), text);
    }
  } finally {
    inflater.close();
  }
});

Deno.test("handshake validation", () => {
  const request = (headers: Record<string, string | null>, method = "GET") => {
    const all = { ...handshakeHeaders(), ...headers };
    return new Request("http://127.0.0.1/chat", {
      method,
      headers: Object.entries(all).filter(([, v]) => v !== null) as [string, string][],
    });
  };
  assert.equal(checkHandshake(request({})), null);
  assert.equal(
    checkHandshake(request({ upgrade: "WebSocket", connection: "keep-alive, UPGRADE" })),
    null,
  );
  assert.equal(checkHandshake(request({}, "POST"))?.status, 400);
  assert.equal(checkHandshake(request({ upgrade: "websocket2" }))?.status, 400);
  assert.equal(checkHandshake(request({ connection: "close" }))?.status, 400);
  assert.equal(
    checkHandshake(request({ "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAA=" }))?.status,
    400,
  );
  assert.equal(
    checkHandshake(request({ "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAAAA" }))?.status,
    400,
  );
  assert.equal(checkHandshake(request({ "sec-websocket-version": "12" }))?.status, 426);
  assert.equal(websocketHandshakeError(request({})), null);
  const refusal = websocketHandshakeError(request({ "sec-websocket-version": "12" }))!;
  assert.equal(refusal.status, 426);
  assert.equal(refusal.headers.get("sec-websocket-version"), "13");
  assert.equal(websocketHandshakeError(request({ "sec-websocket-key": null }))!.status, 400);

  assert.throws(() => upgradeWebSocket(request({ "sec-websocket-key": null })), TypeError);
  assert.throws(() => upgradeWebSocket(request({}), { protocol: "chat" }), TypeError);
  assert.throws(() => upgradeWebSocket(request({}), { idleTimeout: -1 }), RangeError);
  assert.throws(() => upgradeWebSocket(request({}), { maxMessageSize: 0 }), RangeError);

  const { socket, response } = upgradeWebSocket(
    request({
      "sec-websocket-protocol": "a, chat",
      "sec-websocket-extensions": "permessage-deflate",
    }),
    { protocol: "chat" },
  );
  assert.equal(response.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(response.headers.get("sec-websocket-protocol"), "chat");
  assert.equal(response.headers.get("sec-websocket-extensions"), "permessage-deflate");
  assert.equal(response.headers.get("upgrade"), "websocket");
  assert.equal(socket.url, "ws://127.0.0.1/chat");
  assert.equal(socket.protocol, "chat");
  assert.equal(socket.readyState, WebSocket.CONNECTING);
});

Deno.test("guarded listeners: errors are logged, identity is kept", () => {
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const target = new GuardedEventTarget();
    const calls: string[] = [];
    const listener = () => {
      calls.push("fn");
      throw new Error("boom");
    };
    const object = { handleEvent: (e: Event) => calls.push(`object:${e.type}`) };
    target.addEventListener("x", listener);
    target.addEventListener("x", listener); // deduplicated, like EventTarget
    target.addEventListener("x", object);
    target.addEventListener("x", () => calls.push("once"), { once: true });
    target.dispatchEvent(new Event("x"));
    target.dispatchEvent(new Event("x"));
    target.removeEventListener("x", listener);
    target.removeEventListener("x", object, { capture: true }); // a different registration
    target.dispatchEvent(new Event("x"));
    assert.deepEqual(calls, ["fn", "object:x", "once", "fn", "object:x", "object:x"]);
    assert.equal(logged.length, 2);
  } finally {
    console.error = original;
  }
});

Deno.test("the sender keeps order, counts bufferedAmount, and discards only messages", async () => {
  const written: Uint8Array[] = [];
  let started!: () => void;
  const writeStarted = new Promise<void>((resolve) => started = resolve);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const sink = {
    async write(bytes: Uint8Array) {
      started();
      await gate;
      // Partial writes: the sender must loop.
      const n = Math.min(bytes.length, 3);
      written.push(bytes.slice(0, n));
      return n;
    },
  };
  const errors: unknown[] = [];
  const sender = new Sender(sink, undefined, (error) => errors.push(error));
  sender.message(encoder.encode("first"), true);
  await writeStarted;
  sender.message(new Blob([new Uint8Array([1, 2])]), false);
  sender.control(Opcode.Close, encodeClosePayload(1000));
  sender.message(encoder.encode("dropped"), true);
  assert.equal(sender.bufferedAmount, 5 + 2 + 7);
  let roomy = false;
  const room = sender.below(5).then(() => roomy = true);
  // "first" is being written and stays counted; the close frame survives the discard.
  sender.discard();
  assert.equal(sender.bufferedAmount, 5);
  await room;
  release();
  await sender.flushed();
  assert.equal(roomy, true);
  assert.equal(sender.bufferedAmount, 0);
  assert.equal(
    hex(concat(written)),
    hex(concat([
      encodeFrame({ opcode: Opcode.Text, payload: encoder.encode("first") }),
      encodeFrame({ opcode: Opcode.Close, payload: encodeClosePayload(1000) }),
    ])),
  );
  assert.deepEqual(errors, []);
});

Deno.test("a failed write stops the sender and is reported once", async () => {
  const errors: unknown[] = [];
  const sink = { write: () => Promise.reject(new Error("reset")) };
  const sender = new Sender(sink, undefined, (error) => errors.push(error));
  sender.message(encoder.encode("a"), true);
  sender.control(Opcode.Ping, new Uint8Array());
  await sender.flushed();
  sender.message(encoder.encode("b"), true);
  await sender.flushed();
  await sender.below(0);
  assert.equal(errors.length, 1);
});

Deno.test("fragments are appended to one buffer; a message holds its ArrayBuffer alone", () => {
  const assembler = new MessageAssembler(1 << 20);
  const part = (opcode: Opcode, bytes: number[], fin = false): Frame => ({
    fin,
    rsv1: false,
    opcode,
    payload: new Uint8Array(bytes),
  });
  assert.equal(assembler.accept(part(Opcode.Binary, [1, 2, 3])), null);
  for (let i = 0; i < 100; i++) assert.equal(assembler.accept(part(Opcode.Continuation, [])), null);
  assert.equal(assembler.accept(part(Opcode.Continuation, [4, 5])), null);
  const message = assembler.accept(part(Opcode.Continuation, [6], true)) as {
    payload: Uint8Array;
  };
  assert.deepEqual([...message.payload], [1, 2, 3, 4, 5, 6]);
  assert.equal(message.payload.buffer.byteLength, 6);
  // A single-frame message is the frame's own payload, uncopied.
  const single = part(Opcode.Text, [104, 105], true);
  assert.equal((assembler.accept(single) as { payload: Uint8Array }).payload, single.payload);
});

Deno.test(`a message of more than ${MAX_FRAGMENTS} fragments is 1009, whatever their size`, () => {
  const assembler = new MessageAssembler(Infinity);
  const empty = (opcode: Opcode, fin = false): Frame => ({
    fin,
    rsv1: false,
    opcode,
    payload: new Uint8Array(0),
  });
  assert.equal(assembler.accept(empty(Opcode.Text)), null);
  for (let i = 2; i < MAX_FRAGMENTS; i++) {
    assert.equal(assembler.accept(empty(Opcode.Continuation)), null);
  }
  // The last fragment allowed completes the message.
  const done = assembler.accept(empty(Opcode.Continuation, true));
  assert.equal((done as { type: string }).type, "message");
  assert.equal(assembler.accept(empty(Opcode.Text)), null);
  let result: unknown = null;
  for (let i = 1; i <= MAX_FRAGMENTS && result === null; i++) {
    result = assembler.accept(empty(Opcode.Continuation));
  }
  assert.ok(result instanceof ProtocolViolation);
  assert.equal(result.code, 1009);
});
