/**
 * Runs INSIDE the Xen lab host's dom0 (`host.deno(...)`, Deno from the 9p share): the project's own shims against
 * the real hypervisor and Xen's own xenstored. Prints one line `HYPERLAB_PROBE <json>` at the end.
 *
 * `probe`: xenstore conformance cases through libxenstore (our shim) against Xen's xenstored; xenctrl version,
 * physinfo, domains; vCPU pinning of dom0 vCPU 1 (set, read back, restore); raw hypercalls xen_version (17) and
 * Nephele's clone_op (43).
 * `affinity --guest DOMID`: the hard/soft affinity of the guest's vCPUs 0 and 1 through our xenctrl shim.
 * `virtflex-seed --guest DOMID --name NAME`: writes the numa/… subtree Virtflex's libxl would write (stock libxl
 * does not), so the Virtflex playbook can run its procedure against a stock guest.
 */
import { parseArgs } from "node:util";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { openXenctrl, writeVirtflexLayout } from "../../../lib/xen/mod.ts";
import { LibXenstoreClient, runConformance } from "../../../lib/xenstore/mod.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { guest: { type: "string" }, name: { type: "string" } },
});
const out: Record<string, unknown> = {};
const mode = positionals[0] ?? "probe";

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    return `ok ${String(await p)}`;
  } catch (e) {
    return e instanceof ErrnoError ? e.errnoName : `error ${(e as Error).message}`;
  }
}

if (mode === "probe") {
  const t0 = performance.now();
  out.conformance = await runConformance(() => LibXenstoreClient.open());
  out.conformanceMs = performance.now() - t0;
  const xc = await openXenctrl();
  out.version = await xc.version();
  out.physinfo = await xc.physinfo();
  out.domains = (await xc.domains()).map((d) => ({ ...d, cpuTimeNs: String(d.cpuTimeNs) }));
  const before = await xc.vcpuAffinity(0, 1);
  const set = await xc.setVcpuAffinity(0, 1, [1]);
  const after = await xc.vcpuAffinity(0, 1);
  await xc.setVcpuAffinity(0, 1, before.hard);
  out.pinning = { before, set, after, restored: await xc.vcpuAffinity(0, 1) };
  // __HYPERVISOR_xen_version = 17, XENVER_version = 0: (major << 16) | minor.
  out.xenVersionRaw = Number(await xc.hypercall(17, [0]));
  // Nephele's __HYPERVISOR_clone_op = 43 (CLONEOP_clone = 0, NULL argument): stock Xen has no handler.
  out.cloneOp = await errnoOf(xc.hypercall(43, [0, 0]));
} else if (mode === "affinity") {
  const xc = await openXenctrl();
  const g = Number(values.guest);
  out.guestAffinity = [await xc.vcpuAffinity(g, 0), await xc.vcpuAffinity(g, 1)];
} else if (mode === "virtflex-seed") {
  const domid = Number(values.guest);
  const xs = await LibXenstoreClient.open();
  await writeVirtflexLayout(xs, domid, {
    name: values.name ?? `d${domid}`,
    nodes: [{ pnode: 0, sizeMb: 128, vcpus: [0] }, { pnode: 1, sizeMb: 128, vcpus: [1] }],
  });
  out.seeded = await xs.list(`/local/domain/${domid}/numa/node`);
  await xs.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(`HYPERLAB_PROBE ${JSON.stringify(out)}`);
