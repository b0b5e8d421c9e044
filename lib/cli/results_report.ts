/**
 * `deno task results report …` for the results CLI: the lead's results command calls
 * `resultsReportCommand(argsAfterReport)` (exit code) and lists REPORT_USAGE in its usage text.
 * @module
 */
export { REPORT_USAGE, reportCommand as resultsReportCommand } from "../report/report_cli.ts";
