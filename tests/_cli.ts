/** Runs hyperlab's CLI entry points as subprocesses (end-to-end tests). */
import { fileURLToPath } from "node:url";

/** Project root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** Output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A lib/cli/<entry>_main.ts ...args` in the project root (what `deno task <entry>` runs). */
export async function cli(
  entry: "play" | "results",
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `lib/cli/${entry}_main.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Path of a fixture playbook. */
export function fixture(name: string): string {
  return `${ROOT}tests/fixtures/playbooks/${name}.ts`;
}
