import { singleCoreScenario } from "../lib/single_core.ts";

/** A large body per response: write path, partial writes and JSON serialization. */
export default singleCoreScenario({
  name: "json",
  title: "64 KiB JSON response, keep-alive, 50 connections",
  quick: false,
  app: "json",
  load: { connections: 50 },
  summary: "64 KiB JSON response",
});
