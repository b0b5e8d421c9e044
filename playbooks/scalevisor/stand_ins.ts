/**
 * What stood in for the real Scalevisor substrate in a run, in plain words for the run's result.
 * @module
 */

/** The stand-ins of a run with these settings. */
export async function standIns(o: {
  inventory?: string;
  diskBaseline: boolean;
  accel: "kvm" | "tcg";
  /** The memory-server nodes are network namespaces of this host (the local lab). */
  namespaces: boolean;
  runDir: string;
}): Promise<string[]> {
  const out = [
    "rmem runs over TCP (no RDMA device here), not verbs",
    "the guest reaches remote memory through QEMU's NBD client and a virtio-blk disk, not a paravirtual rmem driver",
  ];
  if (o.accel === "tcg") {
    out.push("the guest is TCG-emulated (no usable KVM): absolute times are far slower than hardware; compare ratios");
  }
  out.push(
    !o.inventory
      ? "memory servers are local processes on this host (no --inventory)"
      : `memory servers run on nodes of ${o.inventory}` +
        (o.namespaces ? " (lab nodes: network namespaces of this host, so their memory is this machine's)" : ""),
  );
  if (o.diskBaseline) {
    const fs = await new Deno.Command("stat", { args: ["-f", "-c", "%T", o.runDir], stdout: "piped" }).output()
      .then((r) => new TextDecoder().decode(r.stdout).trim() || "unknown").catch(() => "unknown");
    out.push(
      `the local-disk baseline's image is a sparse raw file in ${o.runDir} (${fs}) opened with QEMU's default ` +
        "cache=writeback, so the host page cache absorbs much of its I/O" +
        (fs === "tmpfs" ? "; tmpfs is RAM, so that baseline is RAM-backed" : ""),
    );
  }
  return out;
}
