/**
 * Shared by the `engine_*_test.ts` files: the engine started in-process on 127.0.0.1 with a
 * handler per test, and a raw-socket HTTP/1.1 client that reads responses byte-exactly.
 *
 * @module
 */

import { Changes } from "./changes.ts";
import "../../lib/http/node_reasons.ts";
import assert from "node:assert/strict";
import type { AccessEntry } from "../../lib/engine/connection.ts";
import type { EngineOptions } from "../../lib/engine/config.ts";
import type { Handler } from "../../lib/app/contract.ts";
import { DEFAULT_HEAD_LIMITS } from "../../lib/http/head.ts";
import { HttpServer } from "../../lib/engine/server.ts";
import { MEMORY_SETTINGS } from "./memory_engine.ts";

/** Engine options for tests: generous timeouts, no limits, a fixed Server name. */
export const TEST_OPTIONS: Omit<EngineOptions, "handler"> = {
  ...MEMORY_SETTINGS,
  limits: DEFAULT_HEAD_LIMITS,
  trustedProxies: undefined,
};

/** A running in-process engine; `await using` drains it. */
export interface TestEngine extends AsyncDisposable {
  readonly port: number;
  readonly server: HttpServer;
  /** Warnings the engine reported (message and error name). */
  readonly warnings: string[];
  /** Access-log entries, one per response. */
  readonly access: AccessEntry[];
  /** Every `write` call's byte count on the server side, per accepted connection. */
  readonly writes: number[][];
  /** Every `read` result on the server side, per accepted connection (latin-1 text). */
  readonly reads: string[][];
  /** Drains the server and waits for its accept loop to end. */
  close(): Promise<void>;
}

/** Starts the engine with `handler` on an ephemeral 127.0.0.1 port. */
export function startEngine(
  handler: Handler,
  options: Partial<Omit<EngineOptions, "handler">> = {},
  maxRequests = Infinity,
): TestEngine {
  const warnings: string[] = [];
  const access: AccessEntry[] = [];
  const writes: number[][] = [];
  const reads: string[][] = [];
  const server = new HttpServer({ ...TEST_OPTIONS, ...options, handler }, {
    warn: (message, error) => {
      warnings.push(
        error instanceof Error ? `${message}: ${error.name}: ${error.message}` : message,
      );
    },
    access: (entry) => access.push(entry),
  }, maxRequests);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const serving = server.serve(recordingListener(listener, writes, reads), "http");
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      const drained = server.drain();
      // A connection still waiting for a head would hold the drain until its header timeout.
      const timer = setTimeout(() => server.abort(), 2000);
      await drained;
      clearTimeout(timer);
      await serving;
      // Let cancelled socket reads settle before the op sanitizer looks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    })();
  return { port, server, warnings, access, writes, reads, close, [Symbol.asyncDispose]: close };
}

/** A listener whose connections record each server-side write size and read. */
function recordingListener(
  listener: Deno.TcpListener,
  writes: number[][],
  reads: string[][],
): Deno.Listener {
  return {
    get addr() {
      return listener.addr;
    },
    async accept() {
      const conn = await listener.accept();
      const myWrites: number[] = [];
      const myReads: string[] = [];
      writes.push(myWrites);
      reads.push(myReads);
      return new Proxy(conn, {
        get(target, property) {
          if (property === "write") {
            return (bytes: Uint8Array) => {
              myWrites.push(bytes.length);
              return target.write(bytes);
            };
          }
          if (property === "read") {
            return async (buffer: Uint8Array) => {
              const n = await target.read(buffer);
              if (n !== null) myReads.push(latin1(buffer.subarray(0, n)));
              return n;
            };
          }
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
    close: () => listener.close(),
    ref: () => listener.ref(),
    unref: () => listener.unref(),
    [Symbol.asyncIterator]: () => listener[Symbol.asyncIterator](),
    [Symbol.dispose]: () => listener.close(),
  } as unknown as Deno.Listener;
}

// -------------------------------------------------------------------------------------------------
// Bytes and time

/** One byte per character. */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** One character per byte. */
export function latin1(buf: Uint8Array): string {
  let s = "";
  for (let i = 0; i < buf.length; i += 8192) {
    s += String.fromCharCode(...buf.subarray(i, Math.min(i + 8192, buf.length)));
  }
  return s;
}

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB at a time.
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(out.subarray(at, Math.min(at + 65536, size)));
  }
  return out;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// -------------------------------------------------------------------------------------------------
// Raw client

/** A parsed response, with its raw bytes. */
export interface RawResponse {
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  status: number;
  reason: string;
  /** Field lines in order, names lower-cased. */
  fields: [string, string][];
  /** Head and body exactly as received. */
  raw: string;
  /** The head, through the blank line. */
  head: string;
  /** The body bytes as received (chunk framing included). */
  rawBody: string;
  /** The decoded body. */
  body: string;
  /** The body ran until the connection closed. */
  closeDelimited: boolean;
}

/** All values of field `name` in `response`. */
export function fieldValues(response: RawResponse, name: string): string[] {
  return response.fields.filter(([n]) => n === name).map(([, v]) => v);
}

/** The single value of field `name`, or undefined; fails if it appears more than once. */
export function fieldValue(response: RawResponse, name: string): string | undefined {
  const values = fieldValues(response, name);
  assert.ok(values.length <= 1, `${name} appears ${values.length} times`);
  return values[0];
}

/**
 * Parses one response from `text` (latin-1) at `start`. `noBody` is for answers to HEAD.
 * Returns null when more bytes are needed; `eof` makes a close-delimited body complete.
 */
export function parseResponse(
  text: string,
  start: number,
  noBody: boolean,
  eof: boolean,
): { response: RawResponse; end: number } | null {
  const headEnd = text.indexOf("\r\n\r\n", start);
  if (headEnd < 0) {
    if (eof && text.length > start) {
      throw new Error(`truncated head: ${JSON.stringify(text.slice(start))}`);
    }
    return null;
  }
  const head = text.slice(start, headEnd + 4);
  const lines = text.slice(start, headEnd).split("\r\n");
  const match = /^(HTTP\/1\.[01]) (\d{3}) (.*)$/.exec(lines[0]);
  if (!match) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const fields: [string, string][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(":");
    assert.ok(colon > 0, `bad field line ${JSON.stringify(line)}`);
    assert.ok(!/[\r\n]/.test(line), `CR or LF inside ${JSON.stringify(line)}`);
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const status = Number(match[2]);
  const get = (name: string) => fields.find(([n]) => n === name)?.[1];
  const bodyStart = headEnd + 4;
  const base = { version: match[1], status, reason: match[3], fields, head };
  const done = (end: number, body: string, closeDelimited = false) => ({
    response: {
      ...base,
      raw: text.slice(start, end),
      rawBody: text.slice(bodyStart, end),
      body,
      closeDelimited,
    },
    end,
  });
  if (noBody || status < 200 || status === 204 || status === 304) return done(bodyStart, "");
  const te = get("transfer-encoding");
  if (te !== undefined) {
    assert.equal(te.toLowerCase(), "chunked");
    let at = bodyStart;
    let body = "";
    for (;;) {
      const lineEnd = text.indexOf("\r\n", at);
      if (lineEnd < 0) return eofCheck(eof, "chunk size");
      const size = parseInt(text.slice(at, lineEnd), 16);
      assert.ok(
        Number.isFinite(size),
        `bad chunk size at ${at}: ${JSON.stringify(text.slice(at, lineEnd))}`,
      );
      if (size === 0) {
        if (text.length < lineEnd + 4) return eofCheck(eof, "last chunk");
        assert.equal(text.slice(lineEnd + 2, lineEnd + 4), "\r\n", "no trailers expected");
        return done(lineEnd + 4, body);
      }
      if (text.length < lineEnd + 2 + size + 2) return eofCheck(eof, "chunk data");
      body += text.slice(lineEnd + 2, lineEnd + 2 + size);
      assert.equal(text.slice(lineEnd + 2 + size, lineEnd + 4 + size), "\r\n", "CRLF after chunk");
      at = lineEnd + 4 + size;
    }
  }
  const cl = get("content-length");
  if (cl !== undefined) {
    const n = Number(cl);
    if (text.length < bodyStart + n) return eofCheck(eof, "content-length body");
    return done(bodyStart + n, text.slice(bodyStart, bodyStart + n));
  }
  if (!eof) return null;
  return done(text.length, text.slice(bodyStart), true);
}

function eofCheck(eof: boolean, what: string): null {
  if (eof) throw new Error(`connection closed inside the ${what}`);
  return null;
}

/** A raw TCP client that keeps reading in the background and keeps everything it received. */
export class RawClient implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  /** Everything received so far (latin-1). */
  received = "";
  /** Where the next unparsed response starts in `received`. */
  offset = 0;
  /** The server closed (or reset) the connection, or the client was closed. */
  eof = false;
  /** The connection was reset rather than closed. */
  reset = false;
  /** When `eof` became true (ms since epoch). */
  eofAt = 0;
  #closed = false;
  readonly #changes = new Changes();
  readonly #pump: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#pump = this.#read();
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.received += latin1(buffer.subarray(0, n));
        this.#changes.notify();
      }
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) this.reset = true;
      else if (!this.#closed) throw error;
    } finally {
      this.eof = true;
      this.eofAt = Date.now();
      this.#changes.notify();
    }
  }

  /** Waits until `ready()` holds; false if `ms` passed first. */
  until(ready: () => boolean, ms: number): Promise<boolean> {
    return this.#changes.until(ready, ms);
  }

  /** Writes all of `data`. */
  async write(data: string | Uint8Array): Promise<void> {
    const buf = typeof data === "string" ? bytes(data) : data;
    let at = 0;
    while (at < buf.length) at += await this.conn.write(buf.subarray(at));
  }

  /** Reads the next response (waiting at most `ms`). `noBody` for answers to HEAD. */
  async response(ms = 5000, noBody = false): Promise<RawResponse> {
    let parsed: { response: RawResponse; end: number } | null = null;
    const ready = () =>
      (parsed = parseResponse(this.received, this.offset, noBody, this.eof)) !== null || this.eof;
    if (!(await this.until(ready, ms))) {
      throw new Error(
        `no complete response within ${ms} ms; got ${
          JSON.stringify(this.received.slice(this.offset))
        }`,
      );
    }
    if (parsed === null) {
      throw new Error(
        `the server ${this.reset ? "reset" : "closed"} the connection before a response; got ${
          JSON.stringify(this.received.slice(this.offset))
        }`,
      );
    }
    const { response, end } = parsed!;
    this.offset = end;
    return response;
  }

  /** Waits until the server closes; throws if it does not within `ms`. Returns what is unparsed. */
  async untilClosed(ms = 5000): Promise<string> {
    if (!(await this.until(() => this.eof, ms))) {
      throw new Error(
        `the server did not close within ${ms} ms; got ${
          JSON.stringify(this.received.slice(this.offset))
        }`,
      );
    }
    return this.received.slice(this.offset);
  }

  /** Waits until unparsed bytes include `text`; throws after `ms`. */
  async untilReceived(text: string, ms = 5000): Promise<void> {
    if (!(await this.until(() => this.received.includes(text, this.offset), ms))) {
      throw new Error(
        `${JSON.stringify(text)} not received within ${ms} ms; got ${
          JSON.stringify(this.received.slice(this.offset))
        }`,
      );
    }
  }

  /** True if no byte arrives and the connection stays open for `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    const before = this.received.length;
    const changed = await this.until(() => this.received.length > before || this.eof, ms);
    return !changed;
  }

  /** Closes the client (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#pump;
  }
}

/** Sends `request` on a fresh connection and returns the first response. */
export async function fetchRaw(
  port: number,
  request: string | Uint8Array,
  ms = 5000,
): Promise<RawResponse> {
  await using client = await RawClient.connect(port);
  await client.write(request);
  return await client.response(ms);
}

/**
 * Sends `request` on a fresh connection, reads `count` responses (`noBody[i]` for HEADs), and
 * returns them with whether the server then closed.
 */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  count = 1,
  options: { noBody?: boolean[]; ms?: number; expectClose?: boolean } = {},
): Promise<RawResponse[]> {
  await using client = await RawClient.connect(port);
  await client.write(request);
  const responses: RawResponse[] = [];
  for (let i = 0; i < count; i++) {
    responses.push(await client.response(options.ms ?? 5000, options.noBody?.[i] ?? false));
  }
  if (options.expectClose) {
    const rest = await client.untilClosed(options.ms ?? 5000);
    assert.equal(rest, "", "nothing after the last response");
  }
  return responses;
}

/**
 * Sends `request` and checks the server refused it as the engine must: `status`, a
 * Content-Length that matches the body, `Connection: close`, then the server closes.
 */
export async function expectRefusal(
  port: number,
  request: string | Uint8Array,
  status: number,
): Promise<RawResponse> {
  await using client = await RawClient.connect(port);
  // The server may close before reading everything: a failed write is fine, the answer counts.
  const writing = client.write(request).catch(() => {});
  const response = await client.response();
  assert.equal(response.status, status, `expected ${status}, got ${JSON.stringify(response.head)}`);
  assert.equal(fieldValue(response, "connection"), "close");
  assert.equal(Number(fieldValue(response, "content-length")), response.body.length);
  assert.equal(await client.untilClosed(), "", "nothing after the refusal");
  await writing;
  return response;
}

/** A handler that records the requests it saw and answers `200 ok`. */
export function recorder(): { handler: Handler; seen: Request[] } {
  const seen: Request[] = [];
  return {
    seen,
    handler: (request) => {
      seen.push(request);
      return new Response("ok");
    },
  };
}
