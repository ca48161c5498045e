import { singleCoreScenario } from "../lib/single_core.ts";

/** The engine's floor: parsing, calling the handler and writing a tiny response. */
export default singleCoreScenario({
  name: "plaintext",
  title: "Plaintext hello, keep-alive, 50 connections",
  quick: true,
  app: "hello",
  load: { connections: 50 },
  summary: "plaintext, keep-alive, 50 connections",
});
