/**
 * Every scenario, in report order. A new one is a module exporting a `Scenario` by default,
 * added to this list.
 *
 * @module
 */

import type { Scenario } from "../lib/scenario.ts";
import plaintext from "./plaintext.ts";
import pipeline from "./pipeline.ts";
import close from "./close.ts";
import json from "./json.ts";
import upload from "./upload.ts";
import stream from "./stream.ts";
import hono from "./hono.ts";
import staticFile from "./static.ts";
import engine from "./engine.ts";
import memory from "./memory.ts";
import multi from "./multi.ts";
import restart from "./restart.ts";
import isolation from "./isolation.ts";
import haproxy from "./haproxy.ts";
import websocket from "./websocket.ts";

export const scenarios: Scenario[] = [
  plaintext,
  pipeline,
  close,
  json,
  upload,
  stream,
  hono,
  staticFile,
  engine,
  memory,
  multi,
  restart,
  isolation,
  haproxy,
  websocket,
];
