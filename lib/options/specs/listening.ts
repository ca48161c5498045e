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
    kind: "choice",
    field: "listenMode",
    choices: [DEFAULT_LISTEN_MODE, "reuseport"],
    names: ["listen-mode"],
    valueName: "MODE",
    group: "Listening",
    description: "reuseport: a socket per worker; shared: one accept queue",
    defaultText: DEFAULT_LISTEN_MODE,
  },
  {
    kind: "boolean",
    field: "proxyProtocol",
    names: ["proxy-protocol"],
    group: "Listening",
    description:
      "every TCP connection starts with a PROXY protocol header (v1 or v2, as HAProxy's send-proxy); without a valid one it is closed",
  },
  {
    kind: "text",
    field: "forwardedAllowIps",
    names: ["forwarded-allow-ips"],
    valueName: "IPS",
    group: "Listening",
    description:
      "trust Forwarded and X-Forwarded-For/-Proto from these peers: *, unix, addresses or CIDR ranges, comma separated",
  },
  {
    kind: "text",
    field: "healthPath",
    names: ["health-path"],
    valueName: "PATH",
    group: "Listening",
    description:
      "answered by Starlight itself, never the app: 200 while serving, 503 while draining or while no worker serves",
  },
  {
    kind: "text",
    field: "metricsListen",
    names: ["metrics-listen"],
    valueName: "ADDR",
    group: "Listening",
    description: "serve /metrics (Prometheus) and /status (JSON) on this HOST:PORT; off by default",
  },
];
