/**
 * Logging through LogTape: one configuration point for the server's own log (stderr or
 * `--error-log`), the banner, and the access log.
 *
 * @module
 */

import { configure, getConfig, getLogger, getTextFormatter, type Logger, type LogRecord, type Sink } from "@logtape/logtape";
import { getFileSink } from "@logtape/file";

/** The supervisor's and workers' events. */
export const log: Logger = getLogger(["starlight", "server"]);
/** Start-up banner lines, printed bare. */
export const banner: Logger = getLogger(["starlight", "banner"]);
/** One combined-format line per response. */
export const accessLog: Logger = getLogger(["starlight", "access"]);

/** Where the logs go. */
export interface LogTargets {
  /** File for everything the server logs (appended); stderr when absent. */
  errorLog?: string;
  /** File for the access log. */
  accessLog?: string;
  /** Also write access lines to stderr (`-E development`). */
  accessToStderr?: boolean;
  /** Print no banner. */
  quiet?: boolean;
}

const encoder = new TextEncoder();
const text = getTextFormatter({
  timestamp: "date-time-timezone",
  value: (value) => typeof value === "string" ? value : Deno.inspect(value),
});

function stderrSink(format: (record: LogRecord) => string): Sink {
  return (record) => {
    try {
      Deno.stderr.writeSync(encoder.encode(format(record)));
    } catch {
      // stderr closed (daemon without an error log): nothing else can be done with the line.
    }
  };
}

function bare(record: LogRecord): string {
  return String(record.properties.line ?? record.message.join("")) + "\n";
}

let current: LogTargets | undefined;

/**
 * Configures LogTape for the server. With `onlyIfUnconfigured`, an embedding program that set
 * up LogTape itself keeps its configuration (Starlight logs under the `starlight` category).
 */
export async function setupLogging(targets: LogTargets, onlyIfUnconfigured = false): Promise<void> {
  if (onlyIfUnconfigured && getConfig() !== null && current === undefined) return;
  current = targets;
  const server: Sink = targets.errorLog === undefined
    ? stderrSink(text)
    : getFileSink(targets.errorLog, { formatter: text, lazy: false }) as Sink;
  const plain: Sink = targets.errorLog === undefined
    ? stderrSink(bare)
    : getFileSink(targets.errorLog, { formatter: bare, lazy: false }) as Sink;
  const sinks: Record<string, Sink> = { server, plain };
  const access: string[] = [];
  if (targets.accessLog !== undefined) {
    sinks.access = getFileSink(targets.accessLog, { formatter: bare, lazy: false }) as Sink;
    access.push("access");
  }
  if (targets.accessToStderr) access.push("plain");
  await configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["starlight", "server"], sinks: ["server"], lowestLevel: "info" },
      { category: ["starlight", "banner"], sinks: targets.quiet ? [] : ["plain"], lowestLevel: "info" },
      { category: ["starlight", "access"], sinks: access, lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
}

/** Reopens the log files (after a rotation moved them away). */
export async function reopenLogs(): Promise<void> {
  if (current !== undefined) await setupLogging(current);
}

/** Writes one access line. */
export function writeAccess(line: string): void {
  accessLog.info("{line}", { line });
}

/** Writes one banner line. */
export function announce(line: string): void {
  banner.info("{line}", { line });
}
