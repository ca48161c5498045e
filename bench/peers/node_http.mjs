// The node:http peer. Node cannot load bench/apps/*.ts, so each app has an idiomatic twin here
// sending the same status, headers that matter and bytes.
//
// Usage: node bench/peers/node_http.mjs <app name> <port>
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { pipeline } from "node:stream/promises";
import { rows } from "../apps/rows.js";

const hello = Buffer.from("Hello, World!");
const page = new URL("../apps/public/page.html", import.meta.url);
const chunk = Buffer.from("x".repeat(1023) + "\n");

const apps = {
  hello(_req, res) {
    res.writeHead(200, {
      "content-type": "text/plain;charset=UTF-8",
      "content-length": hello.length,
    });
    res.end(hello);
  },
  json(_req, res) {
    const body = JSON.stringify(rows);
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  },
  async echo(req, res) {
    const parts = [];
    for await (const part of req) parts.push(part);
    const body = Buffer.concat(parts);
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": body.length,
    });
    res.end(body);
  },
  async stream(_req, res) {
    res.writeHead(200, { "content-type": "text/plain" });
    // A generator honours backpressure like the ReadableStream's pull() does in the Deno app.
    await pipeline(function* () {
      for (let i = 0; i < 100; i++) yield Buffer.from(chunk);
    }, res);
  },
  // The twin of hono_static: stat and stream the file per request, as a static server does.
  async hono_static(_req, res) {
    const { size } = statSync(page);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": size });
    await pipeline(createReadStream(page), res);
  },
};

const [name, port] = process.argv.slice(2);
const app = apps[name];
if (!app) {
  console.error(`node_http: no node:http twin of bench/apps/${name}.ts`);
  process.exit(2);
}

const server = createServer((req, res) => {
  // A client hanging up mid-body must not crash the peer with an unhandled rejection.
  Promise.resolve(app(req, res)).catch(() => res.destroy());
});
// Node's default 5 s would drop the memory scenario's idle connections before they are measured.
server.keepAliveTimeout = 120_000;
server.listen(Number(port), "127.0.0.1");
