/** Starts scheduler and schedule CLI processes for integration tests, and cleans them up. */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../../lib/core/provenance.ts";

const DENO_JSON = join(PROJECT_ROOT, "deno.json");

/** A scheduler process (`deno task scheduler` equivalent). */
export class SchedulerProc implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #stderr: Promise<string>;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(storePath: string, extra: string[] = []) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        DENO_JSON,
        "lib/schedule/scheduler_main.ts",
        "--results",
        storePath,
        ...extra,
      ],
      cwd: PROJECT_ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#stderr = new Response(this.child.stderr).text();
    this.status = this.child.status.then((s) => (this.#exited = true, s));
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Everything the scheduler wrote to stderr (after it exited). */
  stderr(): Promise<string> {
    return this.#stderr;
  }

  kill(sig: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.child.kill(sig);
    } catch { /* gone */ }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), 15_000);
    await this.status;
    clearTimeout(t);
    await this.#stderr.catch(() => "");
  }
}

/** Runs `deno task schedule …` (the same entry) and returns exit code and output. */
export async function scheduleCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", DENO_JSON, "lib/schedule/schedule_main.ts", ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
