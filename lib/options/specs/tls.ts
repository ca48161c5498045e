/**
 * The "TLS" options: TLS certificates and client verification.
 *
 * @module
 */

import { type Spec } from "../spec.ts";
import { VERIFY_MODE } from "../rules.ts";

/** The "TLS" section of the option table, in help order. */
export const TLS_SPECS: readonly Spec[] = [
  {
    kind: "boolean",
    field: "ssl",
    names: ["ssl"],
    group: "TLS",
    description: "serve HTTPS; needs --ssl-key-file and --ssl-cert-file",
  },
  {
    kind: "text",
    field: "sslKeyFile",
    names: ["ssl-key-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM private key",
  },
  {
    kind: "text",
    field: "sslCertFile",
    names: ["ssl-cert-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM certificate chain",
  },
  {
    kind: "text",
    field: "sslCaFile",
    names: ["ssl-ca-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM CA certificates for verification",
  },
  {
    kind: "text",
    field: "sslClientCaFile",
    names: ["ssl-client-ca-file"],
    valueName: "FILE",
    group: "TLS",
    description: "PEM CA certificates that client certificates must chain to",
  },
  {
    kind: "number",
    field: "sslVerifyMode",
    rule: VERIFY_MODE,
    fallback: 0,
    names: ["ssl-verify-mode"],
    valueName: "MODE",
    group: "TLS",
    description: "client certificate checks as IO::Socket::SSL's SSL_verify_mode; 0: none",
  },
];
