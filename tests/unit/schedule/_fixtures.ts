/** Test fixtures for the scheduler: a configurable playbook module written into a temp dir, and store helpers. */
import { join } from "node:path";
import { ResultsStore } from "../../../lib/results/store.ts";
import { JobStore } from "../../../lib/schedule/job_store.ts";

const PLAYBOOK_TS = new URL("../../../lib/core/playbook.ts", import.meta.url).href;

/**
 * Writes a playbook module `name` into `dir`. Parameters: `sleepMs` (cancellable), `fail`, `crash` (SIGKILLs its own process), `failUntil` with
 * `counterFile` (fails the first N attempts), `marker` (appends "<start ms> <end ms>" per run), `nodes`, and an
 * optional required `need` when `required` is set.
 */
export function writePlaybook(dir: string, name: string, options: { required?: boolean } = {}): string {
  const path = join(dir, `${name}.ts`);
  Deno.writeTextFileSync(
    path,
    `import { z } from "zod";
import { definePlaybook } from "${PLAYBOOK_TS}";
export default definePlaybook({
  name: "${name}",
  description: "scheduler test playbook",
  params: z.object({
    sleepMs: z.number().default(0),
    fail: z.boolean().default(false),
    crash: z.boolean().default(false),
    failUntil: z.number().int().default(0),
    counterFile: z.string().optional(),
    marker: z.string().optional(),
    nodes: z.array(z.string()).default([]),
    ${options.required ? "need: z.string()," : ""}
  }),
  nodes: (p) => p.nodes,
  async run(ctx) {
    const p = ctx.params;
    const t0 = Date.now();
    if (p.counterFile) {
      let n = 0;
      try { n = Number(Deno.readTextFileSync(p.counterFile)); } catch { /* first */ }
      Deno.writeTextFileSync(p.counterFile, String(n + 1));
      if (n < p.failUntil) throw new Error("flaky failure " + (n + 1));
    }
    if (p.sleepMs) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, p.sleepMs);
        ctx.signal.addEventListener("abort", () => { clearTimeout(t); reject(ctx.signal.reason); }, { once: true });
      });
    }
    if (p.marker) Deno.writeTextFileSync(p.marker, t0 + " " + Date.now() + "\\n", { append: true });
    if (p.fail) throw new Error("asked to fail");
    if (p.crash) Deno.kill(Deno.pid, "SIGKILL");
    ctx.metric("done", 1);
    return { ok: true };
  },
});
`,
  );
  return path;
}

/** Opens a store in `dir` with the scheduler's tables. */
export function openJobs(dir: string): { results: ResultsStore; jobs: JobStore } & Disposable {
  const results = ResultsStore.open(join(dir, "results.db"));
  const jobs = new JobStore(results);
  return { results, jobs, [Symbol.dispose]: () => results.close() };
}

/** Reads "<start> <end>" lines written by the fixture's `marker`. */
export function readMarks(path: string): { start: number; end: number }[] {
  try {
    return Deno.readTextFileSync(path).trim().split("\n").filter(Boolean).map((l) => {
      const [s, e] = l.split(" ").map(Number);
      return { start: s, end: e };
    });
  } catch {
    return [];
  }
}

/** Polls `cond` every 50 ms until true or `ms` passed; throws with `what` on timeout. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
