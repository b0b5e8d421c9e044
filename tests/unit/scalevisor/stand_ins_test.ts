/** What a run says stood in for the real substrate. */
import assert from "node:assert/strict";
import { standIns } from "../../../playbooks/scalevisor/stand_ins.ts";
import { needPath, skipIf } from "../../_helpers.ts";

Deno.test("scalevisor stand-ins: TCP for RDMA, NBD for the rmem driver, TCG, where the servers ran", async () => {
  const local = await standIns({ diskBaseline: false, accel: "tcg", namespaces: false, runDir: "/tmp" });
  assert.deepEqual(local, [
    "rmem runs over TCP (no RDMA device here), not verbs",
    "the guest reaches remote memory through QEMU's NBD client and a virtio-blk disk, not a paravirtual rmem driver",
    "the guest is TCG-emulated (no usable KVM): absolute times are far slower than hardware; compare ratios",
    "memory servers are local processes on this host (no --inventory)",
  ]);
  const lab = await standIns({ inventory: "lab", diskBaseline: false, accel: "kvm", namespaces: true, runDir: "/tmp" });
  assert.ok(!lab.some((s) => /TCG/.test(s)));
  assert.match(lab.at(-1)!, /nodes of lab \(lab nodes: network namespaces of this host/);
  const real = await standIns({
    inventory: "c.yaml",
    diskBaseline: false,
    accel: "kvm",
    namespaces: false,
    runDir: "/",
  });
  assert.equal(real.at(-1), "memory servers run on nodes of c.yaml");
});

Deno.test({
  name: "scalevisor stand-ins: a local-disk image on tmpfs is called RAM-backed",
  ignore: skipIf(needPath("/dev/shm")),
  async fn() {
    const s = await standIns({ diskBaseline: true, accel: "tcg", namespaces: false, runDir: "/dev/shm" });
    assert.match(s.at(-1)!, /sparse raw file in \/dev\/shm \(tmpfs\) .*cache=writeback.*tmpfs is RAM/);
  },
});
