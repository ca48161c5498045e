/**
 * Listener addresses as the user writes them (`--listen`, `--socket`) and as workers open them.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { OptionError } from "../options/error.ts";

/**
 * One address to listen on, as `Server.addresses` reports it (with port 0 resolved).
 *
 * @example
 * ```ts
 * import type { ListenSpec } from "@x/starlight";
 * function show(spec: ListenSpec): string {
 *   switch (spec.kind) {
 *     case "tcp":
 *       return `${spec.hostname}:${spec.port}`;
 *     case "unix":
 *       return spec.path;
 *     case "abstract":
 *       return `@${spec.name}`;
 *   }
 * }
 * ```
 */
export type ListenSpec =
  /** A TCP address; `hostname` is written without IPv6 brackets. */
  | { kind: "tcp"; hostname: string; port: number }
  /** A UNIX socket file, always an absolute path. */
  | { kind: "unix"; path: string }
  /** A Linux abstract socket, written with a leading `@`. */
  | { kind: "abstract"; name: string };

/**
 * Internal: how a worker's loopback listener recognises the relays that pass it connections
 * from listeners it does not open itself — the supervisor's UNIX-socket relay
 * (`unix_relay.ts`) and the TLS fronts (`tls_fronts.ts`). Never given by users; never shown in
 * banners.
 */
export interface RelayInfo {
  /** Hex secret the relay sends first on every connection; anything else is dropped. */
  token: string;
  /** The public listeners, indexed by the route byte of the preamble (`relay_preamble.ts`). */
  routes: ListenSpec[];
  /** The scheme of requests on these routes: `http` (UNIX sockets) or `https` (TLS fronts). */
  scheme: "http" | "https";
}

/** A worker-side TCP listener on loopback that serves connections relayed to it. */
export type RelayListenSpec = Extract<ListenSpec, { kind: "tcp" }> & { relay: RelayInfo };

/** Whether `spec` is the internal relay listener rather than an address the user gave. */
export function isRelaySpec(spec: ListenSpec): spec is RelayListenSpec {
  return spec.kind === "tcp" && typeof (spec as Partial<RelayListenSpec>).relay === "object";
}

/**
 * The relay listener with `token` among the addresses the workers bound (its port resolved).
 *
 * @example
 * ```ts
 * import { findRelay, type ListenSpec } from "./spec.ts";
 * const bound: ListenSpec[] = [{ kind: "tcp", hostname: "0.0.0.0", port: 8080 }];
 * findRelay(bound, "00ff"); // undefined
 * ```
 */
export function findRelay(bound: ListenSpec[], token: string): RelayListenSpec | undefined {
  return bound.find((spec): spec is RelayListenSpec =>
    isRelaySpec(spec) && spec.relay.token === token
  );
}

/**
 * What the workers listen on when the supervisor relays some listeners to them: `listeners` with
 * those `routed` replaced by one loopback relay listener, where the first of them stood.
 *
 * @example
 * ```ts
 * import { relayInPlace, type ListenSpec } from "./spec.ts";
 * const socket: ListenSpec = { kind: "unix", path: "/tmp/app.sock" };
 * const tcp: ListenSpec = { kind: "tcp", hostname: "0.0.0.0", port: 8080 };
 * const routed = (spec: ListenSpec) => spec.kind === "unix";
 * relayInPlace([tcp, socket], routed, { token: "00ff", routes: [socket], scheme: "http" });
 * // [tcp, { kind: "tcp", hostname: "127.0.0.1", port: 0, relay: {...} }]
 * ```
 */
export function relayInPlace(
  listeners: ListenSpec[],
  routed: (spec: ListenSpec) => boolean,
  relay: RelayInfo,
): ListenSpec[] {
  const spec: RelayListenSpec = { kind: "tcp", hostname: "127.0.0.1", port: 0, relay };
  const first = listeners.findIndex(routed);
  return listeners.flatMap((listener, i) =>
    !routed(listener) ? [listener] : i === first ? [spec] : []
  );
}

/** What a listen string cannot say by itself. */
export interface ListenSpecContext {
  /** Host for a bare `:PORT` (default `"0.0.0.0"`). */
  defaultHost?: string;
}

const FLAG = "--listen";

/**
 * Parses one `--listen` value: `HOST:PORT`, `:PORT`, `[IPv6]:PORT`, a socket path (anything
 * containing `/` or ending in `.sock`, made absolute against `Deno.cwd()`) or `@name` for an
 * abstract socket.
 *
 * @throws {OptionError} naming `--listen` when the value fits none of these forms.
 * @example
 * ```ts
 * import { parseListenSpec } from "./spec.ts";
 * parseListenSpec("[::1]:8080"); // { kind: "tcp", hostname: "::1", port: 8080 }
 * ```
 */
export function parseListenSpec(value: string, context: ListenSpecContext = {}): ListenSpec {
  if (value.startsWith("@")) {
    if (value.length === 1) throw invalid(value, "an abstract socket needs a name after @");
    return { kind: "abstract", name: value.slice(1) };
  }
  if (value.includes("/") || value.endsWith(".sock")) {
    // Absolute now, because a daemonized server changes its directory before it listens.
    return { kind: "unix", path: isAbsolute(value) ? value : resolve(Deno.cwd(), value) };
  }
  let hostname: string;
  let portText: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) throw invalid(value, "missing ] after the IPv6 address");
    hostname = value.slice(1, close);
    if (hostname === "") throw invalid(value, "empty IPv6 address");
    if (value[close + 1] !== ":") throw invalid(value, "expected :PORT after the IPv6 address");
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(":");
    if (colon < 0) {
      throw invalid(value, "expected HOST:PORT, :PORT, [IPv6]:PORT, a socket path or @name");
    }
    hostname = value.slice(0, colon);
    if (hostname.includes(":")) {
      throw invalid(value, "write an IPv6 address in brackets, e.g. [::1]:8080");
    }
    if (hostname === "") hostname = context.defaultHost ?? "0.0.0.0";
    portText = value.slice(colon + 1);
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port <= 65535)) throw invalid(value, `'${portText}' is not a port number (0-65535)`);
  return { kind: "tcp", hostname, port };
}

/**
 * Writes a listener the way a user would type it, for banners, logs and error messages.
 *
 * @example
 * ```ts
 * import { formatListenSpec } from "./spec.ts";
 * formatListenSpec({ kind: "tcp", hostname: "::", port: 5000 }); // "[::]:5000"
 * ```
 */
export function formatListenSpec(spec: ListenSpec): string {
  switch (spec.kind) {
    case "tcp":
      return spec.hostname.includes(":")
        ? `[${spec.hostname}]:${spec.port}`
        : `${spec.hostname}:${spec.port}`;
    case "unix":
      return spec.path;
    case "abstract":
      return `@${spec.name}`;
  }
}

function invalid(value: string, problem: string): OptionError {
  return new OptionError(FLAG, `${FLAG}: '${value}': ${problem}`);
}
