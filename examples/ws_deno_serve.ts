/**
 * A WebSocket app written for `deno serve`, with nothing Starlight-specific in it: it upgrades
 * with `Deno.upgradeWebSocket`, and runs unchanged under either server.
 *
 * ```sh
 * deno serve --port 8080 examples/ws_deno_serve.ts
 * deno run -A mod.ts --port 8080 examples/ws_deno_serve.ts
 * ```
 *
 * Open http://localhost:8080/ and type: every message comes back, upper-cased, with the
 * number of messages this socket has sent so far. Binary messages come back reversed.
 *
 * @module
 */

const PAGE = `<!doctype html>
<title>Echo</title>
<input id="text" autofocus placeholder="say something, press Enter">
<pre id="log"></pre>
<script>
  const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  socket.onmessage = (event) => log.textContent += event.data + "\\n";
  text.onkeydown = (event) => {
    if (event.key === "Enter" && text.value) socket.send(text.value), text.value = "";
  };
</script>
`;

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== "/ws") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("this endpoint speaks WebSocket\n", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    let count = 0;
    socket.onmessage = (event) => {
      count++;
      if (typeof event.data === "string") socket.send(`${count}: ${event.data.toUpperCase()}`);
      else socket.send(new Uint8Array(event.data as ArrayBuffer).reverse());
    };
    socket.binaryType = "arraybuffer";
    return response;
  },
} satisfies Deno.ServeDefaultExport;
