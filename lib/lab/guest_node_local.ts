/**
 * The local machine as a lab node for {@link startGuestOnNode}: commands run here as child processes. The cluster
 * layer's SSH node runner has the same shape.
 * @module
 */
import type { NodeRunner, NodeRunResult } from "./guest_node.ts";

/** A NodeRunner that runs commands on this machine (optionally with a replaced environment). */
export function localNodeRunner(name = "local", env?: Record<string, string>): NodeRunner {
  return {
    name,
    async run(argv, options = {}): Promise<NodeRunResult> {
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(argv[0], {
          args: argv.slice(1),
          env,
          clearEnv: env !== undefined,
          stdin: options.stdin ? "piped" : "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      } catch (e) {
        return { code: 127, stdout: "", stderr: `${argv[0]}: ${(e as Error).message}` };
      }
      if (options.stdin) {
        const w = child.stdin.getWriter();
        w.write(options.stdin).then(() => w.close()).catch(() => {});
      }
      const timer = options.timeoutMs
        ? setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
        }, options.timeoutMs)
        : undefined;
      const out = await child.output();
      clearTimeout(timer);
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
  };
}
