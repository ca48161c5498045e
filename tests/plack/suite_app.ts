/**
 * The server side of Plack::Test::Suite as one fetch app. Perl's `test_app_handler` picks the app
 * by `@TEST` index; `run.t` also sends the case name, and this dispatches on that, so a Suite
 * upgrade that reorders or adds cases fails by name instead of pairing a client with the wrong app.
 *
 * @module
 */

import type { App } from "../../lib/app/contract.ts";
import { psgi, psgiEnv } from "./psgi_env.ts";
import { cases } from "./suite_cases.ts";

export default {
  fetch(request, info) {
    const name = request.headers.get("X-Plack-Test-Name") ?? "";
    const app = Object.hasOwn(cases, name) ? cases[name] : undefined;
    // Not 501: the Suite's streaming clients read that as "unsupported" and pass silently.
    if (!app) return psgi(404, [], [`no fetch port of Plack::Test::Suite case '${name}'`]);
    return app(psgiEnv(request, info), request);
  },
} satisfies App;
