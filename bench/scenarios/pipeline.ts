import { singleCoreScenario } from "../lib/single_core.ts";

/**
 * Requests arrive 16 at a time on each connection, so per-read and per-write overheads are
 * amortized and the request/response path itself dominates. Also checks pipelining works at all.
 */
export default singleCoreScenario({
  name: "pipeline",
  title: "Plaintext hello, pipelining depth 16, 50 connections",
  quick: false,
  app: "hello",
  load: { connections: 50, script: "pipeline.lua", scriptArgs: ["16"] },
  summary: "same, pipelined ×16",
  note: "Latency runs from a batch's write to each response. wrk's histogram sometimes reads 0 " +
    "under pipelining; such readings are dropped, and n/a means no round had one.",
});
