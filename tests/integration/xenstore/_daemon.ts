/** Test fixture: an embedded xenstored on a socket in a fresh temp dir, removed on dispose. */
import { EmbeddedXenstored, type XenstoredOptions, type XsLimits } from "../../../lib/xenstore/mod.ts";

/** A running daemon and helpers to run Debian's xenstore tools against it. */
export interface DaemonFixture extends AsyncDisposable {
  daemon: EmbeddedXenstored;
  socket: string;
  dir: string;
  /** Runs a xenstore-utils tool with XENSTORED_PATH pointing at the daemon. */
  tool(cmd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts a daemon in a temp dir. */
export async function startDaemon(
  limits?: Partial<XsLimits>,
  more: Partial<XenstoredOptions> = {},
): Promise<DaemonFixture> {
  const dir = await Deno.makeTempDir({ prefix: "hyperlab-xs-" });
  const socket = `${dir}/xenstored.sock`;
  const daemon = await EmbeddedXenstored.start({ ...more, socketPath: socket, limits });
  return {
    daemon,
    socket,
    dir,
    async tool(cmd, ...args) {
      const out = await new Deno.Command(cmd, {
        args,
        env: { XENSTORED_PATH: socket },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
    async [Symbol.asyncDispose]() {
      await daemon.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
