import { singleCoreScenario } from "../lib/single_core.ts";

/** A ReadableStream body of 100 chunks: chunked encoding and the per-chunk write cost. */
export default singleCoreScenario({
  name: "stream",
  title: "Streamed response, 100 chunks of 1 KiB, keep-alive, 50 connections",
  quick: false,
  app: "stream",
  load: { connections: 50 },
  summary: "streamed response, 100 chunks",
});
