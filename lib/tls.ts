/**
 * Reading the TLS key and certificate, in the supervisor: workers never read key files.
 *
 * @module
 */

import type { ResolvedOptions } from "./options.ts";
import type { TlsMaterial } from "./worker_protocol.ts";

async function readPem(path: string | undefined, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path!);
  } catch (error) {
    throw new Error(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/** Reads the PEM files named by the options; errors name the file and the flag. */
export async function readTls(options: ResolvedOptions): Promise<TlsMaterial> {
  let cert = await readPem(options.sslCertFile, "--ssl-cert-file");
  const key = await readPem(options.sslKeyFile, "--ssl-key-file");
  if (options.sslCaFile !== undefined) cert += "\n" + await readPem(options.sslCaFile, "--ssl-ca-file");
  return { cert, key };
}
