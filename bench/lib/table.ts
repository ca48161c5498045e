/**
 * Markdown tables and number formatting.
 *
 * @module
 */

/** A Markdown table; the first `left` columns left-aligned, the numbers right-aligned. */
export function table(head: string[], rows: string[][], left = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " +
    cells.map((c, i) => i >= left ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(" | ") +
    " |";
  const rule = "|" +
    widths.map((w, i) => i >= left ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2)).join("|") +
    "|";
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** The median of the values that are numbers; NaN when none are. */
export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).toSorted((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function latency(ms: number): string {
  if (Number.isNaN(ms)) return "n/a";
  return ms < 1 ? `${Math.round(ms * 1000)} µs` : `${ms.toFixed(2)} ms`;
}

export function ratio(value: number, base: number | undefined): string {
  return base ? `${(value / base).toFixed(2)}×` : "n/a";
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** A share as a whole percentage: 0.97 → "97 %"; n/a when unknown. */
export function percent(share: number): string {
  return Number.isNaN(share) ? "n/a" : `${Math.round(share * 100)} %`;
}
