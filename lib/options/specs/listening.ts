/**
 * The "Listening" options: where the server listens and how workers share the socket.
 *
 * @module
 */

import {
  DEFAULT_HOST,
  DEFAULT_IPV6_HOST,
  DEFAULT_LISTEN_MODE,
  DEFAULT_PORT,
  type Spec,
} from "../spec.ts";
import { PORT } from "../rules.ts";

/** The "Listening" section of the option table, in help order. */
export const LISTENING_SPECS: readonly Spec[] = [
  {
    kind: "text",
    field: "host",
    names: ["host"],
    short: "o",
    valueName: "HOST",
    group: "Listening",
    description: "address to listen on",
    defaultText: `${DEFAULT_HOST}, or ${DEFAULT_IPV6_HOST} with --ipv6`,
  },
  {
    kind: "number",
    field: "port",
    rule: PORT,
    fallback: DEFAULT_PORT,
    names: ["port"],
    short: "p",
    valueName: "PORT",
    group: "Listening",
    description: "TCP port to listen on",
  },
  {
    kind: "listen",
    names: ["listen"],
    short: "l",
    valueName: "ADDR",
    group: "Listening",
    description: "HOST:PORT, :PORT, [IPv6]:PORT, socket path or @abstract; repeatable",
  },
  {
    kind: "text",
    field: "socket",
    names: ["socket"],
    short: "S",
    valueName: "PATH",
    group: "Listening",
    description: "also listen on this UNIX socket (@name: abstract socket)",
  },
  {
    kind: "boolean",
    field: "ipv6",
    names: ["ipv6"],
    group: "Listening",
    description: "listen on :: rather than 0.0.0.0 by default",
  },
  {
    kind: "listen-mode",
    names: ["listen-mode"],
    valueName: "MODE",
    group: "Listening",
    description: "reuseport: a socket per worker; shared: one accept queue",
    defaultText: DEFAULT_LISTEN_MODE,
  },
];
