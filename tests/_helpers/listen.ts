/**
 * Helpers shared by the listener, TLS, process and log tests.
 *
 * @module
 */

import { run } from "./run.ts";
import { repoRoot } from "./server.ts";

/** The fixture directory. */
export const fixtures = `${repoRoot}tests/fixtures/listen/`;
/** The echo app. */
export const echoApp = `${fixtures}echo.ts`;

/** Every `listening at port N [on HOST]` in a banner. */
export function bannerPorts(text: string): { port: number; host: string | undefined }[] {
  return [...text.matchAll(/listening at port (\d+)(?: on (\S+))?/g)].map((m) => ({
    port: Number(m[1]),
    host: m[2],
  }));
}

/** Whether a program can be run. */
export function have(program: string): boolean {
  try {
    new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI (`deno run -A --no-prompt mod.ts …`) to its end. */
export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(Deno.execPath(), ["run", "-A", "--no-prompt", `${repoRoot}mod.ts`, ...args], options);
}

/** `curl -s` with the given arguments; resolves to its exit code and body. */
export function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run("curl", ["-s", "--max-time", "10", ...args]);
}

/** One request over a UNIX (or abstract: `\0name`) socket; resolves to the raw response. */
export async function unixRequest(
  path: string,
  request: string,
  timeoutMs = 5000,
): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }, timeoutMs);
  try {
    const bytes = new TextEncoder().encode(request);
    let at = 0;
    while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }
}

/** Waits until `check` holds (polling), or throws after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The TCP ports process `pid` listens on at 127.0.0.1 (from `/proc`): for a server with UNIX
 * sockets or TLS, its workers' relay listeners, plus any loopback port it was asked for.
 */
export function loopbackListeners(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`));
      if (match) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return [
    ...new Set(
      Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1).flatMap((line) => {
        const fields = line.trim().split(/\s+/);
        const [address, port] = (fields[1] ?? ":").split(":");
        return fields[3] === "0A" && address === "0100007F" && inodes.has(fields[9])
          ? [parseInt(port, 16)]
          : [];
      }),
    ),
  ];
}

/** Whether a path exists (without following a final symlink). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate and key for `localhost`/127.0.0.1, or `undefined` without openssl. */
export interface Certificate {
  cert: string;
  key: string;
  certPem: string;
}

/** Makes a throwaway self-signed certificate in `dir` with openssl. */
export async function selfSigned(dir: string, name = "server"): Promise<Certificate | undefined> {
  if (!have("openssl")) return undefined;
  const cert = `${dir}/${name}.pem`;
  const key = `${dir}/${name}.key`;
  const result = await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-days",
    "1",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    // Not a CA: rustls (Deno's fetch) refuses a CA certificate used as the server's own.
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  if (result.code !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { cert, key, certPem: await Deno.readTextFile(cert) };
}

/** The process ids' user ids (real, effective) from `/proc`. */
export function processUid(pid: number): number[] {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return status.match(/^Uid:\s*(.*)$/m)![1].trim().split(/\s+/).map(Number);
}

/** Whether a process exists. */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

/**
 * Leaves a stale socket file at `path`: a process binds it and dies by SIGKILL (a listener that
 * is closed normally removes its file).
 */
export async function staleSocket(path: string): Promise<void> {
  const code = `Deno.listen({ transport: "unix", path: ${
    JSON.stringify(path)
  } }); Deno.kill(Deno.pid, "SIGKILL");`;
  await run(Deno.execPath(), ["eval", code]);
  if (!Deno.lstatSync(path).isSocket) throw new Error(`no stale socket at ${path}`);
}

/** A key and certificate pair on disk. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** A throwaway CA (self-signed, `CA:TRUE`). */
export async function makeCa(dir: string, name: string): Promise<KeyPair> {
  const pair = { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
  const result = await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-days",
    "1",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    pair.key,
    "-out",
    pair.cert,
  ]);
  if (result.code !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return pair;
}

/** A certificate for `cn` signed by `ca`: `server` (localhost, 127.0.0.1), `client` or `ca`. */
export async function makeSigned(
  dir: string,
  ca: KeyPair,
  name: string,
  kind: "server" | "client" | "ca",
): Promise<KeyPair> {
  const pair = { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
  const csr = `${dir}/${name}.csr`;
  const ext = `${dir}/${name}.ext`;
  const request = await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${kind === "server" ? "localhost" : name}`,
    "-keyout",
    pair.key,
    "-out",
    csr,
  ]);
  if (request.code !== 0) throw new Error(`openssl failed: ${request.stderr}`);
  await Deno.writeTextFile(
    ext,
    kind === "ca"
      ? "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
      : kind === "server"
      ? "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
      : "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  const sign = await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    ext,
    "-out",
    pair.cert,
  ]);
  if (sign.code !== 0) throw new Error(`openssl failed: ${sign.stderr}`);
  return pair;
}
