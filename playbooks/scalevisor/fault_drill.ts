/**
 * The fault drill: after the sweep, SIGKILL one memory server (a crashed node), wait until the host's rmem client
 * reports what it lost (regions and pages), and read some of the lost blocks from inside the guest with O_DIRECT:
 * each read must fail with an I/O error — remote memory that is gone is never returned as zeros.
 * @module
 */
import { effect } from "../../lib/core/ambient.ts";
import { HyperlabError } from "../../lib/core/errors.ts";
import type { Guest } from "../../lib/lab/guests_mod.ts";
import type { RmemBlockDevice } from "../../lib/nbd/mod.ts";
import type { LostMemory } from "../../lib/rmem/mod.ts";
import { SWAP_DEVICES } from "./guest_script.ts";
import type { MemoryServer } from "./servers.ts";

/** What the drill saw. */
export interface DrillResult {
  /** The killed server. */
  server: { node: string; endpoint: string };
  /** Pages the client reported lost with it. */
  lostPages: number;
  /** Blocks of the swap disk whose memory was on it. */
  lostBlocks: number;
  /** Guest reads of lost blocks: block number and whether the read failed (it must). */
  probes: { block: number; failed: boolean }[];
}

/** The guest command that reads `blocks` of the remote disk with O_DIRECT and says which reads failed. */
export function probeScript(blocks: (number | string)[]): string {
  return blocks.map((b) =>
    `dd if=${SWAP_DEVICES.remote} of=/dev/null bs=4096 skip=${b} count=1 iflag=direct 2>/dev/null ` +
    `&& echo "probe ${b} ok" || echo "probe ${b} failed"`
  ).join("\n");
}

/** Kills `victim`, waits for the loss report, probes up to three lost blocks from the guest. */
export async function faultDrill(o: {
  victim: MemoryServer;
  lost: LostMemory[];
  device: RmemBlockDevice | null;
  guest: Guest;
  dryRun: boolean;
}): Promise<DrillResult | null> {
  await effect(
    { kind: "process", target: o.victim.node, action: `SIGKILL the memory server at ${o.victim.endpoint}` },
    () => o.victim.stop("SIGKILL"),
    () => undefined,
  );
  if (o.dryRun) {
    await o.guest.exec(probeScript(["<lost block>"]));
    return null;
  }
  const deadline = Date.now() + 10_000;
  while (!o.lost.some((l) => l.server === o.victim.endpoint) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const report = o.lost.find((l) => l.server === o.victim.endpoint);
  if (!report) {
    throw new HyperlabError("scalevisor", `the rmem client did not report server ${o.victim.endpoint} lost in 10 s`);
  }
  const blocks = o.device!.lostBlocks();
  const pick = blocks.filter((b) => b > 0).slice(0, 3); // block 0 holds the swap signature (maybe page-cached)
  const r = pick.length ? await o.guest.exec(probeScript(pick), { timeoutMs: 60_000 }) : { stdout: "" };
  const probes = pick.map((block) => ({
    block,
    failed: new RegExp(`probe ${block} failed`).test(r.stdout),
  }));
  return {
    server: { node: o.victim.node, endpoint: o.victim.endpoint },
    lostPages: report.pages,
    lostBlocks: blocks.length,
    probes,
  };
}
