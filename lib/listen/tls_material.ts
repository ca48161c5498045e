/**
 * Reading and checking the TLS key and certificates, in the supervisor before any worker starts
 * (workers never read key files): every problem is a one-line error naming the file.
 *
 * `--ssl-cert-file` holds the certificate and any intermediates (leaf first); `--ssl-ca-file`
 * and `--ssl-client-ca-file` hold the CAs client certificates must chain to when
 * `--ssl-verify-mode` asks for them (as `SSL_ca_file` in IO::Socket::SSL; they are not sent to
 * clients as part of the chain).
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import { log } from "../log.ts";
import { OptionError, type ResolvedOptions } from "../options/mod.ts";
import type { ClientAuth } from "./tls_listener.ts";

/** TLS material, read by the supervisor (workers may not read the key files). */
export interface TlsMaterial {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * What a TLS listener needs: the PEM material, plus client-certificate rules when a verify mode
 * is set. It travels to workers inside `WorkerConfig.tls`.
 */
export interface ServerTls extends TlsMaterial {
  /** Ask clients for certificates and check them (`--ssl-verify-mode` 1, 3, 5, 7). */
  clientAuth?: ClientAuth;
  /** Milliseconds a client may take to complete the handshake (the header timeout). */
  handshakeTimeout?: number;
}

/** IO::Socket::SSL's `SSL_VERIFY_PEER`. */
const VERIFY_PEER = 1;
/** IO::Socket::SSL's `SSL_VERIFY_FAIL_IF_NO_PEER_CERT`. */
const FAIL_IF_NO_PEER_CERT = 2;

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PRIVATE_KEY = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

function certificates(pem: string, flag: string, path: string): string[] {
  const blocks = pem.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${flag} ${path}: no PEM certificate in the file`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`${flag} ${path}: unreadable certificate: ${(error as Error).message}`);
    }
  }
  return blocks;
}

/**
 * Checks that the key and certificate chain load and match, by listening once on a loopback
 * port with them, as the workers will.
 */
function checkPair(cert: string, key: string, certFile: string, keyFile: string): void {
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return;
    }
    if (/no keys/i.test(message)) {
      throw new Error(`--ssl-key-file ${keyFile}: no usable private key in the file`);
    }
    if (/no cert/i.test(message)) {
      throw new Error(`--ssl-cert-file ${certFile}: no usable certificate in the file`);
    }
    if (/mismatch|not be consistent/i.test(message)) {
      throw new Error(
        `--ssl-key-file ${keyFile}: the key does not match the certificate in ${certFile}`,
      );
    }
    throw new Error(
      `--ssl-cert-file ${certFile}, --ssl-key-file ${keyFile}: ${message.split("\n")[0]}`,
    );
  }
  listener.close();
}

/**
 * Reads the TLS material the options name, or returns `undefined` without `--ssl` (rejecting
 * client-certificate options then, rather than ignoring them).
 *
 * @throws {OptionError} for options that do not fit together.
 * @throws {Error} one line naming the file for unreadable, invalid or mismatched files.
 */
export async function readTls(options: ResolvedOptions): Promise<ServerTls | undefined> {
  const mode = options.sslVerifyMode;
  if (!options.ssl) {
    const stray = mode !== 0
      ? "--ssl-verify-mode"
      : options.sslClientCaFile !== undefined
      ? "--ssl-client-ca-file"
      : options.sslCaFile !== undefined
      ? "--ssl-ca-file"
      : undefined;
    if (stray !== undefined) throw new OptionError(stray, `${stray}: given without --ssl`);
    return undefined;
  }
  const certFile = options.sslCertFile!;
  const keyFile = options.sslKeyFile!;
  const certPem = await readPem(certFile, "--ssl-cert-file");
  const key = await readPem(keyFile, "--ssl-key-file");
  const cert = certificates(certPem, "--ssl-cert-file", certFile).join("\n") + "\n";
  if (!PRIVATE_KEY.test(key)) {
    throw new Error(`--ssl-key-file ${keyFile}: no PEM private key in the file`);
  }
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(key)) {
    throw new Error(`--ssl-key-file ${keyFile}: the key is encrypted; give an unencrypted key`);
  }
  checkPair(cert, key, certFile, keyFile);

  const tls: ServerTls = { cert, key, handshakeTimeout: options.headerTimeout * 1000 };
  if (mode === 0) {
    for (
      const [flag, file] of [["--ssl-ca-file", options.sslCaFile], [
        "--ssl-client-ca-file",
        options.sslClientCaFile,
      ]]
    ) {
      if (file !== undefined) {
        log.warning(
          "{flag} {file} is only used to check client certificates, and --ssl-verify-mode is 0",
          { flag, file },
        );
      }
    }
    return tls;
  }
  if ((mode & VERIFY_PEER) === 0) {
    throw new OptionError(
      "--ssl-verify-mode",
      `--ssl-verify-mode: ${mode} lacks VERIFY_PEER (1), which the other bits modify; use 1, 3, 5 or 7`,
    );
  }
  const [caFlag, caFile] = options.sslClientCaFile !== undefined
    ? ["--ssl-client-ca-file", options.sslClientCaFile]
    : ["--ssl-ca-file", options.sslCaFile];
  if (caFile === undefined) {
    throw new OptionError(
      "--ssl-verify-mode",
      "--ssl-verify-mode: needs --ssl-client-ca-file (or --ssl-ca-file) with the CAs client certificates must chain to",
    );
  }
  const ca = certificates(await readPem(caFile, caFlag), caFlag, caFile).join("\n") + "\n";
  tls.clientAuth = { ca, require: (mode & FAIL_IF_NO_PEER_CERT) !== 0 };
  return tls;
}
