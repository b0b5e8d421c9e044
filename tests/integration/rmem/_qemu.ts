/** Runs QEMU's NBD client tools (qemu-io, qemu-img) without blocking the event loop our servers run on. */

/** Output of one tool run. */
export interface ToolRun {
  code: number;
  out: string;
}

/** Runs `cmd args…` and returns its exit code with stdout and stderr together. */
export async function tool(cmd: string, ...args: string[]): Promise<ToolRun> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout) + d.decode(o.stderr) };
}

/** Runs qemu-io with one `-c` per command against a raw NBD URL. */
export function qemuIo(url: string, ...commands: string[]): Promise<ToolRun> {
  return tool("qemu-io", "-f", "raw", ...commands.flatMap((c) => ["-c", c]), url);
}
