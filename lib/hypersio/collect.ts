/**
 * Log Collector on stock parts: boots a lab guest (QEMU q35 with an emulated intel-iommu) with one virtio-net
 * device per tenant at PCI 00:02.0 … 00:(N+1).0, each DMA-ing through the IOMMU (`iommu_platform=on`) on its own
 * QEMU user-mode network, makes every tenant send ICMP echo traffic to its own virtual gateway (the traffic never
 * leaves QEMU), and records QEMU's `vtd_*` trace events to a log in the constructor's `<prefix>_0.txt` layout.
 * The management NIC (SSH) sits at 00:01.0 and is filtered out by the constructor, as the reference filters its
 * 00:1c.0. Stock QEMU has no `vtd_slpte_fetch` and no level/pmask fields: the constructor derives levels and says so.
 * @module
 */
import { resolve } from "node:path";
import { currentRun } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import { startGuest } from "../lab/guests_mod.ts";
import { forEachLineBytes } from "./line_reader.ts";

/** What to collect. */
export interface CollectOptions {
  /** Tenant devices (1–12). */
  tenants: number;
  /** ICMP echo requests per tenant. */
  pingsPerTenant: number;
  /** Payload bytes per echo (up to 1472 fits one 1500-byte frame). */
  payloadBytes?: number;
  /** Seconds between echoes of one tenant (busybox ping -i). */
  intervalS?: number;
  /** Directory of the log; the log is `<dir>/<name>_vm_<N>_0.txt`. */
  dir: string;
  /** Log name. Default `stock`. */
  name?: string;
  /** Guest memory. Default 256 MiB. */
  memoryMiB?: number;
  signal?: AbortSignal;
}

/** What was collected. */
export interface CollectResult {
  /** Prefix to give the constructor (`<dir>/<name>_vm_<N>`). */
  logPrefix: string;
  logPath: string;
  logLines: number;
  /** Accelerator QEMU used (kvm or tcg). */
  accel: string;
  /** Echo replies received per tenant (from ping's summary). */
  replies: number[];
  /** QEMU trace events requested. */
  events: string[];
}

/** The QEMU arguments adding tenant i's device at 00:(2+i).0 with its own user-mode network 10.(100+i).0.0/24. */
export function tenantDeviceArgs(tenants: number): string[] {
  const args: string[] = [];
  for (let i = 0; i < tenants; i++) {
    args.push("-netdev", `user,id=tenant${i},net=10.${100 + i}.0.0/24`);
    args.push(
      "-device",
      `virtio-net-pci,netdev=tenant${i},addr=0x${(2 + i).toString(16)},disable-legacy=on,iommu_platform=on,ats=on`,
    );
  }
  return args;
}

/** The guest shell script: bring each tenant's interface up, then ping every gateway in parallel. */
export function trafficScript(
  o: Required<Pick<CollectOptions, "tenants" | "pingsPerTenant" | "payloadBytes" | "intervalS">>,
): string {
  const lines: string[] = ["set -e"];
  for (let i = 0; i < o.tenants; i++) {
    const slot = (2 + i).toString(16).padStart(2, "0");
    lines.push(
      `if=$(ls /sys/bus/pci/devices/0000:00:${slot}.0/virtio*/net/)`,
      `ip link set "$if" up`,
      `ip addr add 10.${100 + i}.0.15/24 dev "$if"`,
    );
  }
  lines.push("set +e");
  for (let i = 0; i < o.tenants; i++) {
    lines.push(
      `ping -q -c ${o.pingsPerTenant} -i ${o.intervalS} -s ${o.payloadBytes} 10.${
        100 + i
      }.0.2 > /tmp/ping${i}.txt 2>&1 &`,
    );
  }
  lines.push("wait");
  for (let i = 0; i < o.tenants; i++) {
    lines.push(`echo "tenant${i} $(grep -o '[0-9]* packets received' /tmp/ping${i}.txt)"`);
  }
  return lines.join("\n");
}

/** Boots the guest, generates the traffic, shuts down, and returns where the log is. */
export async function collectIommuLog(o: CollectOptions): Promise<CollectResult> {
  if (!Number.isInteger(o.tenants) || o.tenants < 1 || o.tenants > 12) {
    throw new InputError("tenants", "an integer 1..12 (one PCI slot 00:02.0…00:0d.0 each)", o.tenants);
  }
  if (!Number.isInteger(o.pingsPerTenant) || o.pingsPerTenant < 1 || o.pingsPerTenant > 100_000) {
    throw new InputError("pingsPerTenant", "an integer 1..100000", o.pingsPerTenant);
  }
  const payloadBytes = o.payloadBytes ?? 1400;
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 1472) {
    throw new InputError("payloadBytes", "an integer 0..1472", payloadBytes);
  }
  const intervalS = o.intervalS ?? 0.02;
  if (!(intervalS >= 0.001 && intervalS <= 10)) throw new InputError("intervalS", "seconds in 0.001..10", intervalS);
  const name = o.name ?? "stock";
  await Deno.mkdir(o.dir, { recursive: true });
  const logPrefix = `${o.dir}/${name}_vm_${o.tenants}`;
  const logPath = `${logPrefix}_0.txt`;
  const absLog = resolve(logPath);
  const events = ["vtd_iotlb_page_update", "vtd_iotlb_page_hit", "vtd_iotlb_cc_update"];
  const guest = await startGuest({
    name: "hypersio",
    cpus: 1,
    memoryMiB: o.memoryMiB ?? 256,
    iommu: {},
    trace: { events, file: absLog },
    extraArgs: tenantDeviceArgs(o.tenants),
  });
  let replies: number[] = [];
  try {
    o.signal?.throwIfAborted();
    const r = await guest.exec(
      trafficScript({ tenants: o.tenants, pingsPerTenant: o.pingsPerTenant, payloadBytes, intervalS }),
      {
        timeoutMs: 120_000 + o.pingsPerTenant * intervalS * 2000,
      },
    );
    if (r.code !== 0) throw new InputError("guest traffic", "the traffic script to succeed", r.stderr || r.stdout);
    replies = [...r.stdout.matchAll(/tenant(\d+) (\d+) packets received/g)].map((m) => Number(m[2]));
  } finally {
    await guest.shutdown();
  }
  // Under --dry-run the guest was only planned: there is no log to count.
  const logLines = currentRun()?.dryRun ? 0 : (await forEachLineBytes(absLog, () => {})).lines;
  return { logPrefix, logPath, logLines, accel: guest.accel.accel, replies, events };
}
