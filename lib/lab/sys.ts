/** Small helpers to run system tools (ip, ssh-keygen, useradd) for the local lab, with clear errors. */
import { HyperlabError } from "../core/errors.ts";

/** Output of a finished tool. */
export interface ToolOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; returns its output without throwing. */
export async function tool(cmd: string, args: string[], stdin?: string): Promise<ToolOutput> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new HyperlabError("lab", `cannot run ${cmd}: ${(e as Error).message}`, {
      hint: "install iproute2 and openssh-server",
    });
  }
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await child.output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

/** Runs a tool and throws naming the command and its stderr when it fails. */
export async function mustTool(cmd: string, args: string[], stdin?: string): Promise<string> {
  const o = await tool(cmd, args, stdin);
  if (o.code !== 0) {
    const shown = stdin
      ? `${cmd} ${args.join(" ")} <<${stdin.split("\n").slice(0, 3).join("; ")}...`
      : `${cmd} ${args.join(" ")}`;
    throw new HyperlabError("lab", `${shown} failed (exit ${o.code}): ${o.stderr.trim() || o.stdout.trim()}`);
  }
  return o.stdout;
}

/** True when the process exists and is not a zombie (PID 1 here may not reap daemons' children). */
export { processAlive as alive } from "../core/process.ts";
