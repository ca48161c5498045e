/**
 * WebSocket echo on `Deno.upgradeWebSocket`: every message goes back as it came. The websocket
 * scenario's baseline; `ws_echo_starlight.ts` is the same file but for the import.
 */
const upgradeWebSocket = Deno.upgradeWebSocket;

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
