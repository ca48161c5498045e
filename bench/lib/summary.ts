/**
 * The table that closes the report: one row per scenario, one column per kind of server, each
 * cell the scenario's headline. It is the README's Speed table.
 *
 * @module
 */

import { COLUMNS } from "./contenders.ts";
import type { SummaryRow } from "./scenario.ts";
import { table } from "./table.ts";

/** The summary table, with only the columns some row fills; empty when there are no rows. */
export function summaryTable(rows: SummaryRow[]): string {
  if (!rows.length) return "";
  const columns = COLUMNS.filter((c) => rows.some((r) => r.cells[c] !== undefined));
  return table(
    ["Scenario", ...columns],
    rows.map((r) => [r.scenario, ...columns.map((c) => r.cells[c] ?? "")]),
  );
}
