/**
 * The "Timeouts and limits" options: timeouts and size limits.
 *
 * @module
 */

import { type Spec } from "../spec.ts";
import { BYTES, LIMIT, MIB, POSITIVE_SECONDS, SECONDS } from "../rules.ts";

/** The "Timeouts and limits" section of the option table, in help order. */
export const LIMITS_SPECS: readonly Spec[] = [
  {
    kind: "number",
    field: "timeout",
    rule: POSITIVE_SECONDS,
    fallback: 300,
    names: ["timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "longest silence while a request or response is in flight",
  },
  {
    kind: "number",
    field: "headerTimeout",
    rule: POSITIVE_SECONDS,
    fallback: 30,
    names: ["header-timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "total time to receive a request head, however slowly it arrives",
  },
  {
    kind: "number",
    field: "keepaliveTimeout",
    rule: SECONDS,
    fallback: 5,
    names: ["keepalive-timeout"],
    valueName: "SECONDS",
    group: "Timeouts and limits",
    description: "how long an idle keep-alive connection waits for its next request",
  },
  {
    kind: "number",
    field: "maxKeepaliveReqs",
    rule: LIMIT,
    fallback: 1000,
    names: ["max-keepalive-reqs"],
    valueName: "N",
    group: "Timeouts and limits",
    description: "requests per connection; 1 turns keep-alive off, 0: no limit",
  },
  {
    kind: "number",
    field: "maxRequestBody",
    rule: BYTES,
    fallback: 64 * MIB,
    names: ["max-request-body"],
    valueName: "SIZE",
    group: "Timeouts and limits",
    description: "largest request body (k, m, g suffixes); 0: no limit",
  },
  {
    kind: "number",
    field: "maxWsMessage",
    rule: BYTES,
    fallback: 64 * MIB,
    names: ["max-ws-message"],
    valueName: "SIZE",
    group: "Timeouts and limits",
    description: "largest WebSocket message (k, m, g suffixes); 0: no limit",
  },
];
