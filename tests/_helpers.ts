/** Shared test helpers: skip reasons that are printed and counted, temp dirs, and CLI subprocess runs. */
import { existsSync } from "node:fs";

/**
 * Returns the `ignore` value for Deno.test: when `reason` is a string the test is skipped and the reason printed
 * once (so CI logs say why it was skipped); when null the test runs.
 */
export function skipIf(reason: string | null | false | undefined): boolean {
  if (reason) {
    // Printed while tests are registered: deno test shows it as pre-test output (hidden by --quiet).
    Deno.stderr.writeSync(new TextEncoder().encode(`SKIP: ${reason}\n`));
    return true;
  }
  return false;
}

/** Reason to skip when not root, else null. */
export function needRoot(): string | null {
  return Deno.uid() === 0 ? null : "needs root";
}

/** Reason to skip when a command is not on PATH, else null. */
export function needCommand(cmd: string, pkg = cmd): string | null {
  const r = new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null", stderr: "null" }).outputSync();
  return r.success ? null : `${cmd} not installed (Debian package ${pkg})`;
}

/** Reason to skip when a path does not exist, else null. */
export function needPath(path: string, what = path): string | null {
  return existsSync(path) ? null : `${what} absent (${path})`;
}

/** A temporary directory removed when disposed. */
export function tempDir(prefix = "hyperlab-test-"): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix });
  return {
    path,
    [Symbol.dispose]() {
      try {
        Deno.removeSync(path, { recursive: true });
      } catch { /* already gone */ }
    },
  };
}
