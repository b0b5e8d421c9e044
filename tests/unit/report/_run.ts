/** Records a real run with steps, repeated metrics, artifacts and logs, for report tests. */
import { z } from "zod";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { repeat } from "../../../lib/report/repeat.ts";
import type { ResultsStore } from "../../../lib/results/store.ts";

/** A tiny PNG (2x2, red/green/blue/white) for artifact embedding. */
export const TINY_PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/** Runs the fixture playbook with `shift` added to every latency sample; returns the run id. */
export async function recordRun(store: ResultsStore, shift = 0, spread = 1): Promise<number> {
  const pb = definePlaybook({
    name: "report-fixture",
    description: "records things a report shows",
    params: z.object({ size: z.number().default(4), label: z.string().default("<b>bold</b>") }),
    async run(ctx) {
      ctx.facts("node1", { cpus: 2, model: "test cpu" });
      await ctx.step("prepare", async () => {
        await ctx.step("inner", () => new Promise((r) => setTimeout(r, 20)));
        ctx.log.info("preparing <script>alert(1)</script>");
      });
      await ctx.step("measure", async () => {
        for (const mode of ["a", "b"]) {
          await repeat(
            ctx,
            "latency",
            8,
            { warmup: 2, unit: "ms", tags: { mode } },
            ({ index, warmup }) => (warmup ? 50 : 10 + shift + (mode === "b" ? 5 : 0)) + ((index * 7) % 5) * spread / 4,
          );
        }
        ctx.metric("throughput", 123.5, "ops/s");
      });
      await ctx.artifact("chart.png", TINY_PNG, "image/png");
      await ctx.artifact("notes.txt", "line one\nline <two>");
      ctx.log.warn("done");
      return { ok: true };
    },
  });
  const out = await runPlaybook(pb, {}, { store });
  if (out.status !== "ok") throw new Error(`fixture run failed: ${out.error}`);
  return out.runId;
}
