/** Quickstart probe: boot a micro-VM to its first report, then clone it, on this machine's KVM (real ioctls). */
import { appTemplate, timeBoot, timeClone } from "../../lib/kvm/mod.ts";

/** Median boot and clone time (ms) of the `app` guest, `n` instances each. */
export async function bootVsClone(n: number, memoryMiB: number): Promise<{ bootMs: number; cloneMs: number }> {
  const spec = { memoryMiB, bootInitKiB: (memoryMiB - 1) * 1024, touchKiB: 64 };
  const boots: number[] = [];
  const clones: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = await timeBoot(spec);
    b.vm.close();
    boots.push(b.ms);
  }
  using template = await appTemplate(spec, "quickstart");
  for (let i = 0; i < n; i++) {
    const c = await timeClone(template);
    c.vm.close();
    clones.push(c.ms);
  }
  return { bootMs: median(boots), cloneMs: median(clones) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
