/**
 * WebSocket with a real browser: headless Chromium loads pages served by Starlight (the CLI,
 * started as a user would) and talks to them over WebSocket. Skipped, with the reason printed,
 * where Chromium is not installed (`apt-get install chromium`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { repoRoot, type RunningServer, startServer } from "../_helpers/server.ts";
import { DenoClient, within } from "../_helpers/websocket_clients.ts";

const ECHO_APP = `${repoRoot}tests/fixtures/websocket/echo_app.ts`;
const CHAT = `${repoRoot}examples/chat.ts`;

function findChromium(): string | undefined {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const path of candidates) {
    if (path === undefined || path === "") continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
if (CHROMIUM === undefined) {
  console.log(
    "websocket_browser_test: skipped, Chromium not found (apt-get install chromium, or set CHROMIUM)",
  );
}

/** Flags for a quiet, self-contained headless run that only talks to 127.0.0.1. */
function chromiumFlags(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    `--user-data-dir=${profile}`,
  ];
}

/** The test apps import this checkout's `mod.ts`, outside their own directory. */
async function start(app: string, workers: number): Promise<RunningServer> {
  return await startServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--workers",
    String(workers),
    `--allow-read=${repoRoot}`,
    app,
  ]);
}

async function stopServer(server: RunningServer): Promise<void> {
  const status = await server.stop(10_000);
  assert.equal(status.code, 0, `server exit status ${status.code}; output:\n${server.stderr()}`);
}

Deno.test({
  name: "Chromium --dump-dom: the page's socket echoes text, binary and a compressed message",
  ignore: CHROMIUM === undefined,
  async fn() {
    const server = await start(ECHO_APP, 1);
    const profile = await Deno.makeTempDir({ prefix: "starlight-chromium-" });
    const killer = new AbortController();
    const timer = setTimeout(() => killer.abort(), 30_000);
    try {
      const { code, stdout, stderr } = await new Deno.Command(CHROMIUM!, {
        args: [
          ...chromiumFlags(profile),
          "--virtual-time-budget=5000",
          "--dump-dom",
          `http://127.0.0.1:${server.port}/`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: killer.signal,
      }).output();
      const dom = new TextDecoder().decode(stdout);
      assert.equal(code, 0, `chromium failed:\n${new TextDecoder().decode(stderr)}`);
      assert.match(
        dom,
        /<p id="result">echo: hello from chromium ✨ \| binary: 0,1,2,253,254,255 \| big: same 20000 \| extensions: permessage-deflate<\/p>/,
        dom,
      );
      // The page closed its socket with 1000 "done"; the server side saw a clean close.
      assert.match(dom, /<p id="server">server saw: code=1000 reason="done" clean=true<\/p>/);
      await server.waitFor(/ws-closed tag=chromium code=1000 reason="done" clean=true/, 5000);
    } finally {
      clearTimeout(timer);
      await stopServer(server);
      await Deno.remove(profile, { recursive: true });
    }
  },
});

/** A Chrome DevTools Protocol session on one page. */
class DevTools {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (message: CdpMessage) => void>();
  #id = 0;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data) as CdpMessage;
      if (message.id !== undefined) this.#pending.get(message.id)?.(message);
    };
  }

  static async connect(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    await within(
      5000,
      new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      }),
      "DevTools connection",
    );
    return new DevTools(socket);
  }

  async call(method: string, params: Record<string, unknown> = {}): Promise<CdpMessage> {
    const id = ++this.#id;
    const answer = new Promise<CdpMessage>((resolve) => this.#pending.set(id, resolve));
    this.#socket.send(JSON.stringify({ id, method, params }));
    try {
      const message = await within(10_000, answer, `DevTools ${method}`);
      if (message.error) throw new Error(`${method}: ${message.error.message}`);
      return message;
    } finally {
      this.#pending.delete(id);
    }
  }

  /**
   * Evaluates `expression` in the page (awaiting a promise) and returns its value; tried again
   * when a navigation replaced the page's context meanwhile.
   */
  async evaluate(expression: string): Promise<unknown> {
    for (let attempt = 1;; attempt++) {
      let message: CdpMessage;
      try {
        message = await this.call("Runtime.evaluate", {
          expression,
          awaitPromise: true,
          returnByValue: true,
        });
      } catch (error) {
        if (attempt < 5 && /context/i.test(String(error))) continue;
        throw error;
      }
      const { result } = message;
      if (result?.exceptionDetails) {
        throw new Error(`page: ${JSON.stringify(result.exceptionDetails)}`);
      }
      return result?.result?.value;
    }
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.#socket.onclose = resolve);
    this.#socket.close();
    await within(5000, closed, "DevTools close");
  }
}

interface CdpMessage {
  id?: number;
  error?: { message: string };
  result?: {
    result?: { value?: unknown };
    exceptionDetails?: unknown;
  };
}

/** Page code: resolves once `test()` holds, polling every 20 ms (rejects after 5 s). */
function until(test: string): string {
  return `new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (${test}) return resolve(true);
      if (Date.now() - started > 5000) return reject(new Error(${JSON.stringify(test)}));
      setTimeout(check, 20);
    };
    check();
  })`;
}

Deno.test({
  name: "Chromium runs the chat example: typed messages reach a Deno client and back",
  ignore: CHROMIUM === undefined,
  async fn() {
    const server = await start(CHAT, 2);
    const profile = await Deno.makeTempDir({ prefix: "starlight-chromium-" });
    const browser = new Deno.Command(CHROMIUM!, {
      args: [
        ...chromiumFlags(profile),
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const { promise: announced, resolve: announce } = Promise.withResolvers<string>();
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of browser.stderr) {
        log += decoder.decode(chunk, { stream: true });
        const match = log.match(/DevTools listening on (ws:\/\/127\.0\.0\.1:\d+)\//);
        if (match) announce(match[1].replace("ws:", "http:"));
      }
    })();
    let devtools: DevTools | undefined;
    let deno: DenoClient | undefined;
    try {
      const base = await within(20_000, announced, "Chromium's DevTools endpoint");
      const targets = await (await fetch(`${base}/json/list`)).json() as {
        type: string;
        url: string;
        webSocketDebuggerUrl: string;
      }[];
      const page = targets.find((target) => target.type === "page");
      assert.ok(page, `no page target: ${JSON.stringify(targets)}`);
      devtools = await DevTools.connect(page.webSocketDebuggerUrl);
      await devtools.call("Page.navigate", { url: `http://127.0.0.1:${server.port}/` });
      await devtools.evaluate(
        until(`document.getElementById("status")?.textContent === "connected"`),
      );

      deno = await DenoClient.open(`ws://127.0.0.1:${server.port}/ws`);
      // Type into the form and submit it, as a person would.
      await devtools.evaluate(`(() => {
        document.getElementById("text").value = "chromium: hello there";
        document.getElementById("form").requestSubmit();
      })()`);
      assert.equal(await deno.next(), "chromium: hello there");
      await devtools.evaluate(
        until(`document.getElementById("log").textContent.includes("chromium: hello there")`),
      );
      deno.socket.send("deno: hi, chromium");
      assert.equal(await deno.next(), "deno: hi, chromium");
      await devtools.evaluate(
        until(`document.getElementById("log").textContent.includes("deno: hi, chromium")`),
      );
      const items = await devtools.evaluate(
        `[...document.querySelectorAll("#log li")].map((item) => item.textContent)`,
      );
      assert.deepEqual(items, ["chromium: hello there", "deno: hi, chromium"]);
      await devtools.call("Browser.close").catch(() => {});
    } finally {
      await deno?.close();
      await devtools?.close().catch(() => {});
      const kill = setTimeout(() => {
        try {
          browser.kill("SIGKILL");
        } catch {
          // Gone.
        }
      }, 5000);
      try {
        browser.kill("SIGTERM");
      } catch {
        // Already gone after Browser.close.
      }
      await browser.status;
      clearTimeout(kill);
      await reading;
      await stopServer(server);
      await Deno.remove(profile, { recursive: true });
    }
  },
});
