import { singleCoreScenario } from "../lib/single_core.ts";

/** Accepting and tearing down a connection per request: the cost clients without pools pay. */
export default singleCoreScenario({
  name: "close",
  title: "Plaintext hello, a new connection per request (Connection: close)",
  quick: false,
  app: "hello",
  load: { connections: 50, headers: ["Connection: close"] },
  summary: "a new connection per request",
});
