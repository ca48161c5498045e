/**
 * A broadcast chat room, written as a `deno serve` app: the page is at `/`, the socket at
 * `/ws`, and every text message is relayed to everyone in the room (its sender included).
 *
 * Run it on 2 workers, then open http://localhost:8080/ in two tabs:
 *
 * ```sh
 * deno run -A jsr:@x/starlight --workers 2 --port 8080 chat.ts
 * ```
 *
 * From a checkout of this repository: `deno run -A mod.ts --workers 2 --port 8080
 * --allow-read=. examples/chat.ts` (`--allow-read=.`: the app imports Starlight from the
 * checkout, outside its own directory, which is all the sandbox lets it read by default).
 *
 * The one-line change from `deno serve`: the app calls `upgradeWebSocket` as it would call
 * `Deno.upgradeWebSocket`, and the line below that brings it in is the only one that differs.
 * Under Starlight it is `import { upgradeWebSocket } from "jsr:@x/starlight";` (here
 * `"@x/starlight"`, the name this repository's deno.json gives the package; in your project,
 * `deno add jsr:@x/starlight` maps it the same way); under `deno serve` it is
 * `const { upgradeWebSocket } = Deno;`, and `deno serve --port 8080 chat.ts` runs the rest
 * unchanged (tests/websocket_e2e_test.ts checks both).
 *
 * Rooms and workers: each Starlight worker is an isolate of its own, with its own `room` set
 * of sockets, so with several workers a plain `Set` would give each worker its own room, and
 * two people could sit in the same chat without ever seeing each other. A `BroadcastChannel`
 * reaches every other worker of the process (Deno delivers it between workers, not back to
 * the sender), so each worker relays what its own clients say to the others, and delivers
 * what the others relay to its own clients. Under `deno serve` the channel has no peer (with
 * `--parallel` it links that command's workers the same way).
 *
 * @module
 */

import { upgradeWebSocket } from "@x/starlight";

/** This worker's sockets. */
const room = new Set<WebSocket>();
/**
 * The other workers' rooms; open only while this room has someone in it, because an open
 * `BroadcastChannel` keeps the event loop alive (`deno serve` would not exit on SIGTERM).
 */
let workers: BroadcastChannel | undefined;

/** Longest message relayed, in characters; longer ones are cut. */
const MAX_TEXT = 2000;

function deliver(text: string): void {
  for (const peer of room) {
    if (peer.readyState === WebSocket.OPEN) peer.send(text);
  }
}

function enter(socket: WebSocket): void {
  room.add(socket);
  if (workers !== undefined) return;
  workers = new BroadcastChannel("starlight-chat");
  workers.onmessage = (event: MessageEvent<string>) => deliver(event.data);
}

function leave(socket: WebSocket): void {
  room.delete(socket);
  if (room.size > 0 || workers === undefined) return;
  workers.close();
  workers = undefined;
}

function join(request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("This is the chat's WebSocket endpoint.\n", {
      status: 426,
      headers: { upgrade: "websocket", "content-type": "text/plain; charset=utf-8" },
    });
  }
  let upgrade;
  try {
    upgrade = upgradeWebSocket(request);
  } catch (error) {
    // Not a valid handshake (a missing key, a wrong version…).
    return new Response(`${(error as Error).message}\n`, { status: 400 });
  }
  const { socket, response } = upgrade;
  socket.onopen = () => enter(socket);
  socket.onclose = () => leave(socket);
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") return;
    const text = event.data.slice(0, MAX_TEXT);
    deliver(text);
    workers?.postMessage(text);
  };
  return response;
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>Chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { list-style: none; padding: 0; min-height: 10rem; }
  #text { width: 80%; }
</style>
<h1>Chat</h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<script>
  const status = document.getElementById("status");
  const log = document.getElementById("log");
  const input = document.getElementById("text");
  const socket = new WebSocket(new URL("/ws", location.href.replace(/^http/, "ws")));
  socket.onopen = () => status.textContent = "connected";
  socket.onclose = (event) => status.textContent = "disconnected (" + event.code + ")";
  socket.onmessage = (event) => {
    const item = document.createElement("li");
    item.textContent = event.data;
    log.append(item);
  };
  document.getElementById("form").onsubmit = (event) => {
    event.preventDefault();
    if (input.value !== "" && socket.readyState === WebSocket.OPEN) socket.send(input.value);
    input.value = "";
  };
</script>
</html>
`;

export default {
  fetch(request: Request): Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/ws") return join(request);
    if (pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    return new Response("Not Found\n", { status: 404 });
  },
};
