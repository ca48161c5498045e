/**
 * Test fixture for the WebSocket tests: a tiny server doing what Starlight's engine does with
 * an upgrade (parse the request head, call the app, write `101`, hand the connection to
 * `run`), plus a raw TCP client for sending hand-made frames.
 *
 * @module
 */

import { type Upgrade, upgradeKey } from "../../lib/engine/handoff.ts";
import { encodeFrame, type FrameInit, type Opcode } from "../../lib/websocket/frame.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A running test server. */
export interface TestServer {
  /** `ws://127.0.0.1:<port>/`. */
  readonly url: string;
  /** The listening port. */
  readonly port: number;
  /** Aborting it drains upgraded connections, like a worker shutting down. */
  readonly drain: AbortController;
  /** Stops listening and waits for every connection to finish. */
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 with an ephemeral port. */
export function serve(handler: (request: Request) => Response | Promise<Response>): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const drain = new AbortController();
  const connections = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      const task = handle(conn, port, handler, drain.signal);
      connections.add(task);
      task.finally(() => connections.delete(task));
    }
  })();
  return {
    url: `ws://127.0.0.1:${port}/`,
    port,
    drain,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      while (connections.size > 0) await Promise.all(connections);
    },
  };
}

async function handle(
  conn: Deno.Conn,
  port: number,
  handler: (request: Request) => Response | Promise<Response>,
  drain: AbortSignal,
): Promise<void> {
  const read = await readHead(conn);
  if (!read) return conn.close();
  const [requestLine, ...fields] = read.head.split("\r\n");
  const [method, target] = requestLine.split(" ");
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  const response = await handler(
    new Request(`http://127.0.0.1:${port}${target}`, {
      method,
      headers,
    }),
  );
  const upgrade = (response as Response & { [upgradeKey]?: Upgrade })[upgradeKey];
  if (upgrade) {
    let head = "HTTP/1.1 101 Switching Protocols\r\n";
    for (const [name, value] of upgrade.headers) head += `${name}: ${value}\r\n`;
    await writeAll(conn, encoder.encode(head + "\r\n"));
    // run owns the connection from here, closing included.
    return await upgrade.run(conn, read.rest, drain);
  }
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`;
  for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  await writeAll(conn, concat([encoder.encode(head), body]));
  conn.close();
}

/** Reads up to the blank line ending an HTTP head; `rest` is what came after it. */
export async function readHead(
  conn: Deno.Conn,
): Promise<{ head: string; rest: Uint8Array } | null> {
  let bytes = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  while (true) {
    const end = findHeadEnd(bytes);
    if (end >= 0) {
      return { head: decoder.decode(bytes.subarray(0, end)), rest: bytes.slice(end + 4) };
    }
    const n = await conn.read(buffer);
    if (n === null) return null;
    bytes = concat([bytes, buffer.subarray(0, n)]);
  }
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The handshake request headers of a well-behaved client. */
export function handshakeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    host: "127.0.0.1",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...extra,
  };
}

/** A raw TCP client, after a successful or refused handshake. */
export interface RawClient {
  /** The connection. */
  readonly conn: Deno.Conn;
  /** The response head (status line and headers). */
  readonly head: string;
  /** Bytes received after the head. */
  readonly rest: Uint8Array;
}

/** Connects and sends a handshake with `headers` (null values remove a default one). */
export async function rawConnect(
  port: number,
  headers: Record<string, string | null> = {},
  request = "GET / HTTP/1.1",
): Promise<RawClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = request + "\r\n";
  for (const [name, value] of Object.entries({ ...handshakeHeaders(), ...headers })) {
    if (value !== null) text += `${name}: ${value}\r\n`;
  }
  await writeAll(conn, encoder.encode(text + "\r\n"));
  const read = await readHead(conn);
  if (!read) throw new Error("connection closed before the response head");
  return { conn, ...read };
}

/** Encodes a client frame, masked unless `mask` is `null`. */
export function clientFrame(
  opcode: Opcode,
  payload: Uint8Array | string,
  init: Partial<Omit<FrameInit, "payload" | "opcode" | "mask">> & { mask?: Uint8Array | null } = {},
): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = init.mask === null
    ? undefined
    : init.mask ?? new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  return encodeFrame({ ...init, opcode, payload: bytes, mask });
}

/** A frame sent by the server (unmasked). */
export interface ServerFrame {
  /** FIN bit. */
  readonly fin: boolean;
  /** RSV1 bit. */
  readonly rsv1: boolean;
  /** Opcode. */
  readonly opcode: number;
  /** Payload. */
  readonly payload: Uint8Array;
}

/** Parses complete server frames from `bytes` (which must hold only whole frames). */
export function parseServerFrames(bytes: Uint8Array): ServerFrame[] {
  const frames: ServerFrame[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset + 1] & 0x80) throw new Error("server frames must not be masked");
    let length = bytes[offset + 1] & 0x7f;
    let start = offset + 2;
    if (length === 126) [length, start] = [view.getUint16(offset + 2), offset + 4];
    else if (length === 127) [length, start] = [Number(view.getBigUint64(offset + 2)), offset + 10];
    frames.push({
      fin: (bytes[offset] & 0x80) !== 0,
      rsv1: (bytes[offset] & 0x40) !== 0,
      opcode: bytes[offset] & 0x0f,
      payload: bytes.slice(start, start + length),
    });
    offset = start + length;
  }
  return frames;
}

/** Reads everything until the server closes the connection, then closes our end. */
export async function readToEnd(
  conn: Deno.Conn,
  first: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [first];
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      parts.push(buffer.slice(0, n));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  } finally {
    conn.close();
  }
  return concat(parts);
}

/** Reads server frames until at least `count` complete ones have arrived. */
export async function readFrames(
  conn: Deno.Conn,
  count: number,
  first: Uint8Array = new Uint8Array(0),
): Promise<{ frames: ServerFrame[]; rest: Uint8Array }> {
  let bytes: Uint8Array = first;
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const whole = wholeFramesLength(bytes);
    const frames = parseServerFrames(bytes.subarray(0, whole));
    if (frames.length >= count) return { frames, rest: bytes.slice(whole) };
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection closed after ${frames.length} frames`);
    bytes = concat([bytes, buffer.subarray(0, n)]);
  }
}

function wholeFramesLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    let length = bytes[offset + 1] & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (offset + 4 > bytes.length) break;
      [length, start] = [view.getUint16(offset + 2), offset + 4];
    } else if (length === 127) {
      if (offset + 10 > bytes.length) break;
      [length, start] = [Number(view.getBigUint64(offset + 2)), offset + 10];
    }
    if (start + length > bytes.length) break;
    offset = start + length;
  }
  return offset;
}

/** The close code of a close frame payload (1005 when empty). */
export function closeCodeOf(frame: ServerFrame): number {
  return frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : 1005;
}

/** Rejects when `promise` takes longer than `ms`; the timer never outlives the race. */
export async function within<T>(ms: number, promise: Promise<T>, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles with the next event of `type` on `target`. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string): Promise<E> {
  return new Promise((resolve) =>
    target.addEventListener(type, (e) => resolve(e as E), { once: true })
  );
}
