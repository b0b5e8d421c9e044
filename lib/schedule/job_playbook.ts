/**
 * Loads the playbook a job runs, with a clear error when its module is gone (deleted or moved after `schedule add`).
 * @module
 */
import { existsSync } from "node:fs";
import { HyperlabError } from "../core/errors.ts";
import type { Playbook } from "../core/playbook.ts";
import { importPlaybook } from "../cli/resolve.ts";
import type { Job } from "./types.ts";

/** Imports the job's playbook module; throws HyperlabError `playbook-gone` naming the job and path when missing. */
export async function loadJobPlaybook(job: Job): Promise<Playbook> {
  if (!existsSync(job.playbookPath)) {
    throw new HyperlabError(
      "playbook-gone",
      `job "${job.name}": playbook ${job.playbook} is gone (${job.playbookPath} does not exist; deleted or moved)`,
      { hint: "the job's history is kept; restore the file, or `schedule remove` the job and add it again" },
    );
  }
  return await importPlaybook(job.playbookPath);
}
