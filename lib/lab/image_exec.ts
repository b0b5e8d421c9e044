/**
 * Runs host tools (apt-get, dpkg, ldd, ssh-keygen, dropbearkey, qemu-img) for image builds, turning "not installed"
 * into a MissingError that says which Debian package to install.
 * @module
 */
import { HyperlabError, MissingError } from "../core/errors.ts";

/** What a finished host command returned. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args…`; `pkg` names the Debian package that provides `cmd` (for the error hint). */
export async function exec(
  cmd: string,
  args: string[],
  options: { pkg?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<ExecResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingError(
        `${cmd} is not installed`,
        `install it: apt-get install ${options.pkg ?? cmd}`,
      );
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Like `exec` but throws when the command fails, with its stderr tail. */
export async function execOk(
  cmd: string,
  args: string[],
  options: { pkg?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<ExecResult> {
  const r = await exec(cmd, args, options);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split("\n").slice(-5).join("\n");
    throw new HyperlabError("exec", `${cmd} ${args.join(" ")} failed (exit ${r.code})${tail ? `:\n${tail}` : ""}`);
  }
  return r;
}
