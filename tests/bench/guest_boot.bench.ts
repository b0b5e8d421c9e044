/**
 * guest-boot: time from QEMU start to the guest's userspace marker and to SSH-ready (first successful SSH command),
 * under TCG here, booting the ELF vmlinux through PVH (what hyperlab does) side by side with the classic compressed
 * bzImage boot. The KVM column is filled only where the probe shows KVM can boot Linux.
 *
 * `deno task bench guest-boot [--samples N]` (default 2 per variant; each sample boots one guest).
 */
import { parseArgs } from "node:util";
import { decideAccel, fetchKernel, startGuest } from "../../lib/lab/guests_mod.ts";
import { type Bench, emitResult, printTable } from "./_report.ts";

interface Sample {
  userspaceMs: number;
  sshReadyMs: number;
}

async function bootOnce(accel: "tcg" | "kvm", kernelFormat: "vmlinux" | "bzImage", i: number): Promise<Sample> {
  const g = await startGuest({ name: `bench-${kernelFormat.toLowerCase()}-${i}`, accel, kernelFormat, memoryMiB: 256 });
  try {
    const r = await g.exec("cat /proc/uptime");
    if (r.code !== 0) throw new Error(`ssh in ${g.name} failed: ${r.stderr}`);
    return { userspaceMs: g.bootTimes.userspaceMs!, sshReadyMs: g.bootTimes.sshReadyMs! };
  } finally {
    await g.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

const bench: Bench = {
  name: "guest-boot",
  description: "QEMU start → guest userspace and → SSH-ready (TCG: PVH vmlinux vs bzImage; KVM where it works)",
  async run(args) {
    const { values } = parseArgs({ args, options: { samples: { type: "string", default: "2" } } });
    const samples = Math.max(1, Number(values.samples) || 2);
    const kernel = await fetchKernel();
    const kvm = await decideAccel("auto", kernel);
    const pvh: Sample[] = [];
    const bz: Sample[] = [];
    const kv: Sample[] = [];
    for (let i = 0; i < samples; i++) {
      pvh.push(await bootOnce("tcg", "vmlinux", i));
      bz.push(await bootOnce("tcg", "bzImage", i));
      if (kvm.accel === "kvm") kv.push(await bootOnce("kvm", "vmlinux", i));
    }
    const kvmCell = (xs: number[]) => kvm.accel === "kvm" ? median(xs) : `not possible here: ${kvm.reason}`;
    const r = {
      kernel: `${kernel.package} ${kernel.debVersion}`,
      samples,
      tcg_pvh_userspace_ms: median(pvh.map((s) => s.userspaceMs)),
      tcg_pvh_ssh_ready_ms: median(pvh.map((s) => s.sshReadyMs)),
      tcg_bzimage_userspace_ms: median(bz.map((s) => s.userspaceMs)),
      tcg_bzimage_ssh_ready_ms: median(bz.map((s) => s.sshReadyMs)),
      kvm_userspace_ms: kvm.accel === "kvm" ? median(kv.map((s) => s.userspaceMs)) : null,
      kvm_ssh_ready_ms: kvm.accel === "kvm" ? median(kv.map((s) => s.sshReadyMs)) : null,
      kvm_note: kvm.accel === "kvm" ? "KVM boots Linux here" : `not possible here: ${kvm.reason}`,
    };
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    printTable(
      `guest-boot (${r.kernel}, median of ${samples}, ms from QEMU start)`,
      ["milestone", "TCG, PVH vmlinux (hyperlab)", "TCG, bzImage (classic)", "bzImage / PVH", "KVM"],
      [
        [
          "userspace marker",
          r.tcg_pvh_userspace_ms,
          r.tcg_bzimage_userspace_ms,
          ratio(r.tcg_bzimage_userspace_ms, r.tcg_pvh_userspace_ms),
          kvmCell(kv.map((s) => s.userspaceMs)),
        ],
        [
          "SSH ready",
          r.tcg_pvh_ssh_ready_ms,
          r.tcg_bzimage_ssh_ready_ms,
          ratio(r.tcg_bzimage_ssh_ready_ms, r.tcg_pvh_ssh_ready_ms),
          kvmCell(kv.map((s) => s.sshReadyMs)),
        ],
      ],
    );
    emitResult("guest-boot", r, {
      tcg_userspace_ms: { value: r.tcg_pvh_userspace_ms, target: 10_000, op: "<=" },
      tcg_ssh_ready_ms: { value: r.tcg_pvh_ssh_ready_ms, target: 20_000, op: "<=" },
    });
  },
};

export default bench;
