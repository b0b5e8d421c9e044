/**
 * Scalevisor (skeleton): remote memory for VMs. Starts memory servers, connects this host to them, serves a
 * remote-memory disk over NBD, checks it with QEMU's own NBD client, and builds and runs the project's kmeans
 * with all memory local (the first baseline). The guest part of the experiment — boot a lab guest with
 * `-drive file=<nbd url>`, mkswap/swapon in the guest, kmeans under a cgroup memory limit per local-memory ratio,
 * plus swap on a local disk image — needs the guests and cluster layers and is not run yet: the result says so.
 *
 *   deno task play scalevisor [--servers 2] [--pool-per-server 256M] [--disk 512M] [--merge]
 * @module
 */
import { z } from "zod";
import { InputError } from "../../lib/core/errors.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { NbdServer, RmemBlockDevice } from "../../lib/nbd/mod.ts";
import { parseSize, RmemClient, startServerProcess } from "../../lib/rmem/mod.ts";
import { buildKmeans, kmeansBuildCommand, pointsFor, runKmeans } from "./kmeans.ts";

const size = z.string().regex(/^\d+[KMGT]?$/i, "a size like 256M").describe("size, e.g. 256M");

export default definePlaybook({
  name: "scalevisor",
  description: "Remote-memory disk over NBD backed by memory servers, checked with QEMU's client; kmeans baseline",
  params: z.object({
    servers: z.number().int().min(1).max(16).default(2).describe("memory servers to start on this host"),
    poolPerServer: size.default("256M").describe("memory each server exports"),
    disk: size.default("128M").describe("size of the remote-memory disk"),
    merge: z.boolean().default(false).describe("merge adjacent rmem requests"),
    workingSet: size.default("64M").describe("kmeans working set"),
    ratios: z.array(z.number().gt(0).max(1)).default([1, 0.75, 0.5, 0.25]).describe("local-memory ratios to sweep"),
  }),
  async run(ctx) {
    const p = ctx.params;
    const disk = parseSize(p.disk, "--disk");
    const pool = parseSize(p.poolPerServer, "--pool-per-server");
    const perServer = Math.ceil(disk / p.servers / 4096) * 4096;
    if (perServer > pool) {
      throw new InputError(
        "--disk",
        `at most --servers × --pool-per-server (${p.servers} × ${p.poolPerServer})`,
        p.disk,
      );
    }
    const dims = 8;
    const kmeansSize = {
      points: pointsFor(parseSize(p.workingSet, "--working-set"), dims),
      dims,
      k: 16,
      iterations: 5,
    };

    const servers = await ctx.step("start memory servers", async () => {
      const started = [];
      for (let i = 0; i < p.servers; i++) {
        const s = await startServerProcess({ pool: p.poolPerServer });
        ctx.defer(() => s.kill());
        started.push(s);
      }
      return started.map((s) => s.endpoint);
    });
    if (ctx.dryRun) {
      ctx.plan({ kind: "rmem", target: "localhost", action: `connect ${p.servers} servers, ${perServer} bytes each` });
      ctx.plan({ kind: "nbd", target: "localhost", action: `serve export swap of ${disk} bytes` });
      ctx.plan({ kind: "process", target: "localhost", action: kmeansBuildCommand("<run dir>").join(" ") });
      return { dryRun: true };
    }

    const url = await ctx.step("serve the remote-memory disk", async () => {
      const client = await RmemClient.connect({ servers, bytesPerServer: perServer, merge: p.merge });
      ctx.defer(() => client.close());
      client.onLoss((l) => ctx.log.error(`memory server ${l.server} died: ${l.pages} pages lost (${l.reason})`));
      const nbd = NbdServer.start({ exports: { swap: new RmemBlockDevice(client, disk) } });
      ctx.defer(() => nbd.close());
      return nbd.url("swap");
    });
    ctx.log.info(`remote-memory disk: ${url}`);

    await ctx.step("check the disk with QEMU's NBD client", async () => {
      const o = await new Deno.Command("qemu-io", {
        args: ["-f", "raw", "-c", "write -P 0x5c 0 1M", "-c", "read -P 0x5c 0 1M", "-c", "discard 0 1M", url],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
      if (!o.success || /failed/.test(out)) throw new Error(`qemu-io against ${url} failed:\n${out.trim()}`);
    }, { timeoutMs: 60_000 });

    const baseline = await ctx.step("kmeans, all memory local", async () => {
      const dir = await Deno.makeTempDir({ prefix: "hyperlab-kmeans-" });
      ctx.defer(() => Deno.remove(dir, { recursive: true }));
      const bin = await buildKmeans(dir);
      await ctx.artifact("kmeans.c", { path: new URL("./kmeans.c", import.meta.url).pathname }, "text/x-c");
      return await runKmeans(bin, kmeansSize);
    });
    ctx.metric("kmeans.seconds", baseline.seconds, "s", { ratio: "1", swap: "none" });

    const notRun = "needs a lab guest booted with -drive file=<nbd url> (guests layer) and a cgroup memory limit " +
      "inside it; not wired in this skeleton";
    for (const r of p.ratios) ctx.log.warn(`ratio ${r}: not run: ${notRun}`);
    return {
      disk: url,
      servers,
      baseline: { ratio: 1, swap: "none", ...baseline },
      sweep: p.ratios.map((ratio) => ({ ratio, status: "not run", why: notRun })),
    };
  },
});
