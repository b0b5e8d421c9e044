/**
 * Errors of lab guests: QEMU refusing to start, and QEMU exiting while the guest was in use.
 * @module
 */
import { HyperlabError } from "../core/errors.ts";

/** QEMU exited before the guest was up (bad argv, missing file, port taken…); carries QEMU's stderr tail. */
export class QemuStartError extends HyperlabError {
  /** QEMU's stderr. */
  readonly stderr: string;
  constructor(guest: string, code: number | null, stderr: string) {
    const tail = stderr.trim().split("\n").slice(-8).join("\n");
    super("qemu-start", `guest ${guest}: QEMU exited at start (exit ${code ?? "signal"})${tail ? `:\n${tail}` : ""}`);
    this.stderr = stderr;
  }
}

/** QEMU exited while the guest was in use (crash, kill, guest panic with panic=-1 and -no-reboot). */
export class GuestExitedError extends HyperlabError {
  /** QEMU's exit code (null when killed by a signal). */
  readonly exitCode: number | null;
  /** Signal that ended QEMU, if any. */
  readonly signal: string | null;
  constructor(guest: string, exitCode: number | null, signal: string | null, detail: string) {
    super(
      "guest-exited",
      `guest ${guest}: QEMU exited unexpectedly (${signal ? `signal ${signal}` : `exit ${exitCode}`})${
        detail ? `\n${detail}` : ""
      }`,
    );
    this.exitCode = exitCode;
    this.signal = signal;
  }
}
