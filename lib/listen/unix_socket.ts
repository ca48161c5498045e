/**
 * The life cycle of UNIX socket files: a socket path must not exist, unless it is a stale socket
 * nobody listens on (then it is replaced; a regular file never is); the file is removed when the
 * server exits, and only if it is still the one this process created. Sockets are always bound
 * in the main thread (by the relay, or by the in-process server), never by a worker, so a worker
 * that exits never removes anything.
 *
 * @module
 */

import type { ListenSpec } from "./spec.ts";

/** Socket files this process bound and has not removed yet: path → inode. */
const owned = new Map<string, number | null>();

/** The path of a socket as it appears in messages: `/path` or `@name`. */
function shown(spec: Extract<ListenSpec, { kind: "unix" | "abstract" }>): string {
  return spec.kind === "unix" ? spec.path : `@${spec.name}`;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes `path` free for a new socket: nothing to do if it does not exist; a stale socket (one
 * nobody accepts on) is removed; a live socket or anything that is not a socket is an error.
 *
 * @returns whether a stale socket was removed.
 * @throws {Error} one line naming the path.
 */
export async function clearSocketPath(path: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new Error(`socket ${path}: ${reason(error)}`);
  }
  if (!info.isSocket) {
    throw new Error(`socket ${path}: the path exists and is not a socket; not replacing it`);
  }
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionRefused)) {
      throw new Error(`socket ${path}: cannot tell whether it is in use: ${reason(error)}`);
    }
  }
  if (conn !== undefined) {
    conn.close();
    throw new Error(`socket ${path}: another server is listening on it`);
  }
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`socket ${path}: cannot remove the stale socket: ${reason(error)}`);
    }
  }
  return true;
}

/**
 * Listens on a UNIX or abstract socket in this thread, replacing a stale socket file, and
 * remembers the file for {@link removeOwnSocketFiles}.
 *
 * @param onStale called with the path when a stale socket file was replaced.
 * @throws {Error} one line naming the socket.
 */
export async function bindSocket(
  spec: Extract<ListenSpec, { kind: "unix" | "abstract" }>,
  onStale?: (path: string) => void,
): Promise<Deno.UnixListener> {
  if (spec.kind === "abstract") {
    try {
      return Deno.listen({ transport: "unix", path: "\0" + spec.name });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new Error(`socket ${shown(spec)}: another server is listening on it`);
      }
      throw new Error(`socket ${shown(spec)}: ${reason(error)}`);
    }
  }
  if (await clearSocketPath(spec.path)) onStale?.(spec.path);
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path: spec.path });
  } catch (error) {
    throw new Error(`socket ${spec.path}: ${reason(error)}`);
  }
  let inode: number | null = null;
  try {
    inode = Deno.lstatSync(spec.path).ino;
  } catch {
    // Without the inode, removal still checks that the path is a socket.
  }
  owned.set(spec.path, inode);
  return listener;
}

/** The socket files this process created and still owns. */
export function ownSocketFiles(): string[] {
  return [...owned.keys()];
}

/**
 * Removes one socket file this process created, if it is still ours (same inode). Files that
 * cannot be removed for lack of permission (after a privilege drop) are left to the cleanup
 * helper (see `process/privileges.ts`) and reported by the return value.
 *
 * @returns the paths that could not be removed.
 */
export function removeOwnSocketFiles(paths: string[] = ownSocketFiles()): string[] {
  const left: string[] = [];
  for (const path of paths) {
    if (!owned.has(path)) continue;
    const inode = owned.get(path);
    owned.delete(path);
    try {
      const info = Deno.lstatSync(path);
      if (!info.isSocket || (inode !== null && info.ino !== inode)) continue;
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) left.push(path);
    }
  }
  return left;
}
