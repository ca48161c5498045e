/**
 * A static file server on 127.0.0.1 for tests that load Starlight or an app from a URL, as a
 * web server would serve a package directory: no import map, no rewriting. Closing it also
 * removes what Deno cached from it, so runs leave nothing behind.
 *
 * @module
 */

const MEDIA_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
};

/** A running static server. */
export interface StaticServer {
  /** Its port. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  /** Stops it and forgets Deno's cache of it. */
  close(): Promise<void>;
}

/**
 * Serves the files under the directory `root`, and `files` (path → source) from memory.
 * Paths with `..` are refused.
 */
export function staticServer(
  root: string,
  options: { files?: Record<string, string> } = {},
): StaticServer {
  const base = root.replace(/\/+$/, "");
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requests.push(path);
      const type = MEDIA_TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
      const inline = options.files?.[path];
      if (inline !== undefined) return new Response(inline, { headers: { "content-type": type } });
      if (path.split("/").includes("..")) return new Response("forbidden\n", { status: 403 });
      try {
        return new Response(await Deno.readFile(base + path), {
          headers: { "content-type": type },
        });
      } catch {
        return new Response("not found\n", { status: 404 });
      }
    },
  );
  const port = server.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      await server.shutdown();
      await forgetRemoteCache(port);
    },
  };
}

/** Deno's cache directory, as Deno finds it on Linux. */
export function denoDir(): string {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return xdg ? `${xdg}/deno` : `${Deno.env.get("HOME")}/.cache/deno`;
}

/**
 * Removes the modules Deno cached from 127.0.0.1:`port`: a later run that gets the same port
 * must download afresh, and test runs leave nothing behind.
 */
export async function forgetRemoteCache(port: number): Promise<void> {
  try {
    await Deno.remove(`${denoDir()}/remote/http/127.0.0.1_PORT${port}`, { recursive: true });
  } catch {
    // Nothing was cached.
  }
}
