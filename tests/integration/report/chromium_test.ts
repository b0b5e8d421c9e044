import assert from "node:assert/strict";
import { join } from "node:path";
import { writeRunReport } from "../../../lib/report/run_report.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";
import { recordRun } from "../../unit/report/_run.ts";
import { decodePng, pixelStats } from "./_png.ts";

const CHROMIUM = ["chromium", "chromium-browser", "google-chrome"].find((c) => needCommand(c) === null);

async function screenshot(url: string, png: string, profile: string, size: string): Promise<string> {
  const child = new Deno.Command(CHROMIUM!, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      `--window-size=${size}`,
      `--screenshot=${png}`,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [status, err] = await Promise.all([child.status, new Response(child.stderr).text(), child.stdout.cancel()]);
  clearTimeout(timer);
  assert.ok(status.success, `chromium failed: ${err.slice(-500)}`);
  return err;
}

Deno.test({
  name: "report renders in headless Chromium: a non-blank screenshot with the plots' colours",
  ignore: skipIf(CHROMIUM ? null : needCommand("chromium")),
  async fn() {
    using dir = tempDir();
    using store = ResultsStore.open(join(dir.path, "r.db"));
    const id = await recordRun(store);
    const html = join(dir.path, "report.html");
    writeRunReport(store, id, html);
    const png = join(dir.path, "shot.png");
    await screenshot(`file://${html}`, png, join(dir.path, "profile"), "1200,4000");
    const img = decodePng(Deno.readFileSync(png));
    assert.equal(img.width, 1200);
    const st = pixelStats(img, { timelineOk: "#009E73", series: "#0072B2", bar2: "#E69F00" }, 10);
    assert.ok(st.nonWhite > 0.01, `page has content (non-white ${st.nonWhite})`);
    assert.ok(st.luminanceStddev > 10, `not a flat image (stddev ${st.luminanceStddev})`);
    assert.ok(st.matches.timelineOk > 200, `timeline bars drawn (${st.matches.timelineOk} px)`);
    assert.ok(st.matches.series > 200, `metric plots drawn (${st.matches.series} px)`);
    assert.ok(st.matches.bar2 > 100, `bar chart drawn (${st.matches.bar2} px)`);

    // Control: the same check on an empty page fails, so the assertions above can fail.
    const blankHtml = join(dir.path, "blank.html");
    Deno.writeTextFileSync(blankHtml, "<!doctype html><html><body></body></html>");
    const blankPng = join(dir.path, "blank.png");
    await screenshot(`file://${blankHtml}`, blankPng, join(dir.path, "profile2"), "1200,800");
    const blank = pixelStats(decodePng(Deno.readFileSync(blankPng)), { series: "#0072B2" }, 10);
    assert.ok(blank.nonWhite < 0.001 && blank.matches.series === 0);
  },
});
