/**
 * `--user`, `--group`: the identity the server switches to once its listeners, pid file and logs
 * are open. Names are resolved from `/etc/passwd` and `/etc/group` before anything is served (an
 * unknown name is a start-up error). The switch sets the supplementary groups (`setgroups`
 * through libc, which needs FFI: `-A` has it), then the group, then the user; glibc applies
 * each to every thread of the process, so the workers — running and future — change too. The
 * result is checked on every thread afterwards.
 *
 * @module
 */

import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { log } from "../log.ts";
import type { ResolvedOptions } from "../options/mod.ts";
import { denoDir } from "../sandbox/permissions.ts";

/** Who the server becomes. */
export interface Identity {
  /** User id, or `undefined` to keep the current one. */
  uid: number | undefined;
  /** Primary group id. */
  gid: number;
  /** Supplementary groups (including the primary one). */
  groups: number[];
  /** How the user was named, for messages. */
  user: string | undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function readLines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((line) =>
      line !== "" && !line.startsWith("#")
    );
  } catch {
    return [];
  }
}

/** `/etc/passwd` entries. */
export function readPasswd(path = "/etc/passwd"): PasswdEntry[] {
  return readLines(path).flatMap((line) => {
    const [name, , uid, gid] = line.split(":");
    return /^\d+$/.test(uid ?? "") && /^\d+$/.test(gid ?? "")
      ? [{ name, uid: Number(uid), gid: Number(gid) }]
      : [];
  });
}

/** `/etc/group` entries. */
export function readGroups(path = "/etc/group"): GroupEntry[] {
  return readLines(path).flatMap((line) => {
    const [name, , gid, members] = line.split(":");
    return /^\d+$/.test(gid ?? "")
      ? [{ name, gid: Number(gid), members: (members ?? "").split(",").filter((m) => m !== "") }]
      : [];
  });
}

const NUMBER = /^\d+$/;

/**
 * Resolves `--user` and `--group` to ids. Without `--group`, the user's primary group and the
 * groups listing the user (as `initgroups`); with it, exactly the groups given, the first one
 * primary. A numeric user without a passwd entry needs `--group`, so the group is never left
 * at root's by accident.
 *
 * @throws {Error} one line naming the unknown user or group.
 */
export function resolveIdentity(
  user: string | undefined,
  group: string | undefined,
  files: { passwd?: string; group?: string } = {},
): Identity | undefined {
  if (user === undefined && group === undefined) return undefined;
  const passwd = readPasswd(files.passwd);
  const groups = readGroups(files.group);
  let entry: PasswdEntry | undefined;
  let uid: number | undefined;
  if (user !== undefined) {
    entry = NUMBER.test(user)
      ? passwd.find((e) => e.uid === Number(user))
      : passwd.find((e) => e.name === user);
    if (entry === undefined && !NUMBER.test(user)) throw new Error(`--user ${user}: no such user`);
    uid = entry?.uid ?? Number(user);
  }
  if (group !== undefined) {
    const names = group.split(/[\s,]+/).filter((name) => name !== "");
    if (names.length === 0) throw new Error(`--group '${group}': no group given`);
    const ids = names.map((name) => {
      if (NUMBER.test(name)) return Number(name);
      const found = groups.find((g) => g.name === name);
      if (found === undefined) throw new Error(`--group ${name}: no such group`);
      return found.gid;
    });
    return { uid, gid: ids[0], groups: [...new Set(ids)], user };
  }
  if (entry === undefined) {
    throw new Error(
      `--user ${user}: not in /etc/passwd, so its group is unknown; give --group too`,
    );
  }
  const member = groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
  return { uid, gid: entry.gid, groups: [...new Set([entry.gid, ...member])], user };
}

/** Whether switching to `identity` changes anything for this process. */
export function needsSwitch(identity: Identity): boolean {
  const current = new Set(process.getgroups?.() ?? []);
  return (identity.uid !== undefined && identity.uid !== process.getuid?.()) ||
    identity.gid !== process.getgid?.() ||
    identity.groups.length !== current.size || identity.groups.some((g) => !current.has(g));
}

/** `setgroups(2)` through libc; false if FFI is not available. */
function setgroups(groups: number[]): boolean {
  const library = Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6";
  let libc;
  try {
    libc = Deno.dlopen(library, { setgroups: { parameters: ["usize", "buffer"], result: "i32" } });
  } catch {
    return false;
  }
  try {
    const ids = new Uint32Array(groups);
    if (libc.symbols.setgroups(BigInt(groups.length), ids) !== 0) {
      throw new Error("setgroups failed: Operation not permitted");
    }
    return true;
  } finally {
    libc.close();
  }
}

/** The ids every thread of this process runs with, from `/proc` (Linux only). */
function threadIds(): { uid: string; gid: string; groups: string }[] {
  const result = [];
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        const status = Deno.readTextFileSync(`/proc/self/task/${task.name}/status`);
        const field = (name: string) =>
          status.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1]?.trim() ?? "";
        result.push({ uid: field("Uid"), gid: field("Gid"), groups: field("Groups") });
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // No /proc: nothing to check.
  }
  return result;
}

/**
 * Switches the whole process to `identity`: supplementary groups, group, then user.
 *
 * @throws {Error} one line when the switch is not allowed (not root) or not complete on every
 * thread; the caller must then stop serving.
 */
export function dropPrivileges(identity: Identity): void {
  const who = identity.user === undefined ? `group ${identity.gid}` : `user ${identity.user}`;
  try {
    const current = new Set(process.getgroups?.() ?? []);
    const same = identity.groups.length === current.size &&
      identity.groups.every((g) => current.has(g));
    if (!same && !setgroups(identity.groups)) {
      throw new Error(
        `cannot set the supplementary groups to ${
          identity.groups.join(",")
        } without FFI (run deno with -A or --allow-ffi)`,
      );
    }
    process.setgid!(identity.gid);
    if (identity.uid !== undefined) process.setuid!(identity.uid);
  } catch (error) {
    throw new Error(
      `cannot switch to ${who}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const groups = [...identity.groups].sort((a, b) => a - b).join(" ");
  for (const ids of threadIds()) {
    const uids = ids.uid.split(/\s+/).map(Number);
    const gids = ids.gid.split(/\s+/).map(Number);
    const threadGroups = ids.groups.split(/\s+/).filter((g) => g !== "").map(Number).sort((a, b) =>
      a - b
    ).join(" ");
    if (
      (identity.uid !== undefined && uids.some((id) => id !== identity.uid)) ||
      gids.some((id) => id !== identity.gid) || threadGroups !== groups
    ) {
      throw new Error(
        `cannot switch to ${who}: a thread still runs as uid ${ids.uid}, gid ${ids.gid}`,
      );
    }
  }
}

const READ = 4;
const SEARCH = 1;

function allowed(identity: Identity, uid: number, info: Deno.FileInfo, need: number): boolean {
  if (uid === 0) return true;
  const mode = (info.mode ?? 0) & 0o777;
  if (info.uid === uid) return ((mode >> 6) & need) === need;
  if (info.gid !== null && identity.groups.includes(info.gid)) return ((mode >> 3) & need) === need;
  return (mode & need) === need;
}

/**
 * The paths among `paths` that `identity` could not read (by the permission bits of the path
 * and every directory above it; ACLs are not considered). Paths that do not exist are skipped.
 * Used to warn that workers started after the switch would fail to load the app or its packages.
 */
export function unreadableFor(identity: Identity, paths: string[]): string[] {
  const uid = identity.uid ?? Deno.uid() ?? 0;
  return paths.filter((path) => {
    const parts = path.split("/").filter((part) => part !== "");
    let current = "";
    for (let i = 0; i <= parts.length; i++) {
      current = i === 0 ? "/" : `${current === "/" ? "" : current}/${parts[i - 1]}`;
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(current);
      } catch {
        return false;
      }
      const last = i === parts.length;
      const need = last ? (info.isDirectory ? READ | SEARCH : READ) : SEARCH;
      if (!allowed(identity, uid, info, need)) return true;
    }
    return false;
  });
}

/**
 * Warns when workers started after the switch to `identity` (restarts, replacements) could not
 * read the app's directory or Deno's cache, so the failure is foreseen at start, not at the
 * first restart.
 */
export function warnUnreadableAfterDrop(
  options: ResolvedOptions,
  identity: Identity | undefined,
): void {
  if (identity === undefined || typeof options.app !== "string") return;
  const paths: string[] = [];
  if (options.app.startsWith("file:")) paths.push(dirname(fileURLToPath(options.app)));
  const cache = denoDir();
  if (cache !== undefined) paths.push(cache);
  const unreadable = unreadableFor(identity, paths);
  if (unreadable.length === 0) return;
  log.warning(
    "after the switch to {who}, workers started later (restarts, replacements) cannot read {paths}: " +
      "loading the app or its packages may fail then; give read access, or set DENO_DIR to a cache that user can read",
    { who: identity.user ?? `group ${identity.gid}`, paths: unreadable.join(", ") },
  );
}
