/** Small console tables for summaries (stdout). */
import Table from "cli-table3";
import { writeHuman } from "./reporters.ts";

/** Prints a two-column key/value summary table under a title. */
export function printSummaryTable(title: string, rows: [string, string][]): void {
  const t = new Table({ wordWrap: true, colWidths: [24, 90], style: { head: [], border: [] } });
  for (const r of rows) t.push(r);
  writeHuman(`${title}\n${t.toString()}\n`);
}

/** Prints a table with a header row. */
export function printTable(head: string[], rows: (string | number | null)[][]): void {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null ? "" : String(c))));
  writeHuman(t.toString() + "\n");
}
