/**
 * Host facts of every node through the node agent (installed on first use, cached by content hash): OS, kernel,
 * CPUs, NUMA, memory, KVM/Xen/RDMA presence, and the KVM host-facts query run on each node. Facts go into the run
 * record; nodes that fail are listed (`--retry` re-targets them).
 *
 * `deno task lab up --nodes 3 && deno task play cluster/facts --inventory lab`
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster } from "../../lib/remote/mod.ts";

export default definePlaybook({
  name: "cluster/facts",
  description: "Host facts and KVM facts of every node, gathered by the node agent and stored in the run record",
  params: z.object({
    inventory: z.string().min(1).default("lab").describe("inventory file or `lab`"),
    limit: z.string().optional().describe("limit expression, e.g. `n0,n2` or `!n1`"),
    concurrency: z.number().int().min(1).default(32).describe("nodes worked on at once"),
  }),
  async run(ctx) {
    const p = ctx.params;
    const cluster = connectCluster(await loadInventory(p.inventory, p.limit));
    const facts = await ctx.step(
      "host facts (node agent)",
      () => cluster.each((n) => n.facts(), { continueOnError: true, concurrency: p.concurrency }),
    );
    const kvm = await ctx.step(
      "KVM facts on each node",
      () =>
        cluster.each((n) => n.agent().call("kvmFacts", {}), {
          continueOnError: true,
          concurrency: p.concurrency,
          on: facts.ok,
        }),
    );
    ctx.metric("nodes_ok", kvm.ok.length, "nodes");
    const nodes = facts.outcomes.map((o) => {
      if (o.status !== "ok") return { node: o.node, error: o.status === "failed" ? o.error : o.reason };
      const f = o.value;
      const k = kvm.outcomes.find((x) => x.node === o.node);
      return {
        node: o.node,
        os: f.os.name,
        kernel: f.kernel.release,
        cpus: f.cpus.count,
        numaNodes: f.numa.length,
        memoryGiB: Math.round(f.memory.totalKiB / 2 ** 20 * 10) / 10,
        kvm: k?.status === "ok" ? { apiVersion: k.value.apiVersion, maxVcpus: k.value.caps.MAX_VCPUS } : f.kvm,
        xen: f.xen.present,
        rdma: f.rdma.devices,
      };
    });
    for (const n of nodes) ctx.log.info(JSON.stringify(n), n.node);
    const failedNodes = [...facts.failed, ...facts.skipped, ...kvm.failed, ...kvm.skipped];
    return { nodes, failedNodes }; // failedNodes: what `deno task play --retry <run>` re-targets
  },
});
