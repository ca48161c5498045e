/**
 * WebSocket echo on Starlight's `upgradeWebSocket`: every message goes back as it came. The same
 * file as `ws_echo_deno.ts` but for the import, always this checkout's (with `--starlight=<other>`
 * the engine is the other checkout's, the WebSocket code this one's).
 */
import { upgradeWebSocket } from "../../mod.ts";

export default {
  fetch(req) {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("WebSocket echo: connect with ws://", { status: 426 });
    }
    const { socket, response } = upgradeWebSocket(req);
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  },
} satisfies Deno.ServeDefaultExport;
