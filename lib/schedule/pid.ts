/** Whether a process is alive on this host (signal 0 equivalent). */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound) && !String(e).includes("ESRCH");
  }
}
