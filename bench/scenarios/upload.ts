import { singleCoreScenario } from "../lib/single_core.ts";

/** A large request body read in full and echoed: the read path and body buffering. */
export default singleCoreScenario({
  name: "upload",
  title: "1 MiB POST echoed back, keep-alive, 50 connections",
  quick: false,
  app: "echo",
  load: { connections: 50, script: "upload.lua" },
  summary: "1 MiB upload echoed back",
});
