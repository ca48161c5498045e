/**
 * The app halves of `@Plack::Test::Suite::TEST`, in its order, keyed by case name. Each keeps the
 * Perl app's shape; PSGI-only interfaces become their fetch equivalents: `psgi.input` is the
 * request body stream, a streaming writer or IO::Handle-like body is a `ReadableStream`, a
 * delayed (coderef) response is a `Promise<Response>`.
 *
 * @module
 */

import { bytes, headerList, psgi, type PsgiEnv } from "./psgi_env.ts";

/** One ported app: the PSGI env plus the `Request` it came from (its body is `psgi.input`). */
export type SuiteApp = (env: PsgiEnv, request: Request) => Response | Promise<Response>;

const TEXT = ["Content-Type", "text/plain"];

/** Where Plack keeps what its apps read: the Suite's own source and its share dir. */
function plackFile(variable: "PLACK_SUITE_PM" | "PLACK_SHARE_DIR", name = ""): string {
  const path = Deno.env.get(variable);
  if (!path) throw new Error(`${variable} is not set; tests/plack/suite_test.ts sets it`);
  return name ? `${path}/${name}` : path;
}

/** An open file as a PSGI filehandle body would go out: streamed, optionally sized. */
async function fileResponse(path: string, type: string, sized: boolean): Promise<Response> {
  const file = await Deno.open(path);
  const headers = ["Content-Type", type];
  if (sized) headers.push("Content-Length", String((await file.stat()).size));
  return new Response(file.readable, { headers: headerList(headers) });
}

/** Reads all of `psgi.input`, as the Perl apps' `read` loops and `Plack::Request->content` do. */
async function input(request: Request): Promise<string> {
  const body = new Uint8Array(await request.arrayBuffer());
  return body.reduce((perl, byte) => perl + String.fromCharCode(byte), "");
}

const echo = (key: string): SuiteApp => (env) => psgi(200, TEXT, [env[key] ?? ""]);

/** Headers of the POST cases: what the env says about the request body. */
const clientContent = (env: PsgiEnv) => [
  ...TEXT,
  ...["Client-Content-Length", env.CONTENT_LENGTH ?? ""],
  ...["Client-Content-Type", env.CONTENT_TYPE ?? ""],
];

const jpeg = (name: string): SuiteApp => () =>
  fileResponse(plackFile("PLACK_SHARE_DIR", name), "image/jpeg", true);

export const cases: Readonly<Record<string, SuiteApp>> = {
  "SCRIPT_NAME": (env) => psgi(200, TEXT, [`script_name=${env.SCRIPT_NAME}`]),
  "GET": (env) => psgi(200, TEXT, [`Hello, ${env.QUERY_STRING}`]),
  "POST": async (env, request) => psgi(200, clientContent(env), [`Hello, ${await input(request)}`]),
  "big POST": async (env, request) => psgi(200, clientContent(env), [await input(request)]),
  "psgi.url_scheme": echo("psgi.url_scheme"),
  "return glob": () => fileResponse(plackFile("PLACK_SUITE_PM"), "text/plain", false),
  "filehandle": jpeg("face.jpg"),
  "bigger file": jpeg("baybridge.jpg"),
  "handle HTTP-Header": echo("HTTP_FOO"),
  "handle HTTP-Cookie": echo("HTTP_COOKIE"),
  "validate env": (env) => {
    const keys = [
      "REQUEST_METHOD",
      "SCRIPT_NAME",
      "PATH_INFO",
      "QUERY_STRING",
      "SERVER_NAME",
      "SERVER_PORT",
    ];
    return psgi(200, TEXT, keys.map((key) => `${key}:${env[key]}\n`));
  },
  "% encoding in PATH_INFO": echo("PATH_INFO"),
  "% double encoding in PATH_INFO": echo("PATH_INFO"),
  "% encoding in PATH_INFO (outside of URI characters)": echo("PATH_INFO"),
  "SERVER_PROTOCOL is required": echo("SERVER_PROTOCOL"),
  "SCRIPT_NAME should not be undef": (env) =>
    psgi(200, TEXT, [env.SCRIPT_NAME === undefined ? "" : "1"]),
  // The Perl body is an object with getline/close; a pulled stream is the fetch form of it.
  "call close after read IO::Handle-like": () => {
    let line = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (line++ < 4) controller.enqueue(bytes(String(line)));
        else controller.close();
      },
    });
    return new Response(body, { headers: headerList(TEXT) });
  },
  // psgi.errors' fetch counterpart, stderr, is always there.
  "has errors": () => psgi(200, TEXT, ["1"]),
  "status line": () => psgi(200, TEXT, ["1"]),
  "Do not crash when the app dies": () => {
    throw new Error("Throwing an exception from app handler. Server shouldn't crash.");
  },
  "multi headers (request)": echo("HTTP_FOO"),
  "multi headers (response)": () =>
    psgi(200, [...TEXT, "X-Foo", "foo", "X-Foo", "bar, baz"], ["hi"]),
  "Do not set $env->{COOKIE}": (env) =>
    psgi(200, [...TEXT, "X-Cookie", env.COOKIE ? "1" : "0"], [env.HTTP_COOKIE ?? ""]),
  "no entity headers on 304": () => psgi(304, [], []),
  "REQUEST_URI is set": echo("REQUEST_URI"),
  "filehandle with path()": jpeg("face.jpg"),
  "a big header value > 128 bytes": echo("HTTP_X_FOO"),
  // psgi.streaming holds for every fetch handler: a delayed response is a pending promise.
  "coderef res": async (env) => {
    await Promise.resolve();
    return psgi(200, TEXT, [`Hello, ${env.QUERY_STRING}`]);
  },
  "coderef streaming": (env) => {
    const writes = ReadableStream.from(["Hello, ", env.QUERY_STRING ?? ""].map(bytes));
    return new Response(writes, { headers: headerList(TEXT) });
  },
  "CRLF output and FCGI parse bug": () => psgi(200, TEXT, ["Foo: Bar\r\n\r\nHello World"]),
  "newlines": () => psgi(200, TEXT, ["Bar\nBaz"]),
  "test 404": () => psgi(404, TEXT, ["Not Found"]),
  "request->input seekable": async (_env, request) => psgi(200, TEXT, [await input(request)]),
  "request->content on GET": async (_env, request) => {
    await input(request);
    return psgi(200, TEXT, ["OK"]);
  },
  "handle Authorization header": (env) =>
    psgi(200, [...TEXT, "X-AUTHORIZATION", env.HTTP_AUTHORIZATION === undefined ? "0" : "1"], [
      env.HTTP_AUTHORIZATION || "no_auth",
    ]),
  "repeated slashes": echo("PATH_INFO"),
};
