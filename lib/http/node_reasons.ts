/**
 * Installs `node:http`'s `STATUS_CODES` as the reason phrases of status lines. Imported for
 * its effect by the supervisor (and anything else that serves in the thread that loads it).
 *
 * @module
 */

import { STATUS_CODES } from "node:http";
import { setReasonPhrases } from "./status.ts";

setReasonPhrases(STATUS_CODES);
