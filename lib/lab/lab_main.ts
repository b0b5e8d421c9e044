/**
 * `deno task lab up --nodes N --guests M | down | status`: the local lab of SSH nodes (see lab_nodes.ts) and of QEMU
 * guests (see lab_guests.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { labDown, type LabOptions, labStatus, labUp, readLabState, resolveOptions } from "./lab_nodes.ts";
import { labXenDown, labXenUp, mergeLabXen, runningLabXen } from "./lab_xen.ts";

const USAGE =
  `usage: deno task lab up [--nodes N] [--guests M] [--ipmi] [--xen] | down | status   [--dir D] [--prefix P] [--subnet S]
  up      make the lab have N nodes (network namespaces + bridge + sshd each) and M QEMU guests g0..g(M-1)
          (daemonized, outliving this command; in the inventory as 127.0.0.1:<port>, user root, tag guest).
          Idempotent: running nodes and guests are kept, missing ones started, extra ones removed. A flag left out
          keeps the current count (0 in a new lab), so \`up --guests 1\` alone makes a lab of one guest and no nodes;
          --ipmi gives each node a simulated BMC (ipmi_sim) whose power is the node itself;
          --xen also boots a Xen 4.17 host in QEMU (TCG) and adds its dom0 as node xen0 (roles xen, dom0); it stays
          in the inventory while it runs
  down    remove the lab completely (nodes, guests, the Xen host, files)
  status  show each node's namespace, sshd and port 22, and whether each guest's QEMU runs`;

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      guests: { type: "string" },
      dir: { type: "string" },
      prefix: { type: "string" },
      subnet: { type: "string" },
      ipmi: { type: "boolean" },
      xen: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv);
  } catch (e) {
    throw new InputError(
      "flags",
      "up --nodes N [--guests M] [--ipmi] | down | status, with --dir/--prefix/--subnet",
      argv.join(" "),
      {
        hint: (e as Error).message,
      },
    );
  }
  const { values, positionals } = parsed;
  const cmd = positionals[0];
  if (values.help || !cmd) {
    console.log(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  const int = (flag: string, v: string | undefined, what = "a whole number") => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new InputError(flag, what, v);
    return Number(v);
  };
  const opts: LabOptions = { dir: values.dir, prefix: values.prefix, subnet: int("--subnet", values.subnet) };
  if (cmd === "up") {
    const given = int("--nodes", values.nodes);
    const guests = int("--guests", values.guests, "a non-negative integer (number of QEMU guests)");
    if (given === undefined && guests === undefined) {
      throw new InputError("--nodes", "the number of nodes and/or --guests M, e.g. --nodes 3 --guests 1");
    }
    const n = given ?? readLabState(opts)?.nodes.length ?? 0;
    const t0 = performance.now();
    const s = await labUp(n, { ...opts, ipmi: values.ipmi, guests });
    const labDir = resolveOptions(opts).dir;
    if (values.xen) await labXenUp(labDir);
    const xen = await mergeLabXen(s.inventory, labDir);
    const gs = s.guests ?? [];
    console.log(
      `lab up: ${s.nodes.length} nodes, ${gs.length} guests in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    for (const node of s.nodes) console.log(`  ${node.name}  ${node.ip}  (netns ${node.ns})`);
    for (const g of gs) console.log(`  ${g.name}  127.0.0.1:${g.port}  (QEMU pid ${g.pid}, ${g.accel})`);
    if (xen) {
      const x = await runningLabXen(labDir);
      console.log(`  ${xen}  127.0.0.1:${x?.sshPort}  (Xen ${x?.xen} dom0 in QEMU, pid ${x?.pid})`);
    }
    console.log(`inventory: ${s.inventory}  (use --inventory lab)`);
    return 0;
  }
  if (cmd === "down") {
    const xen = await labXenDown(resolveOptions(opts).dir);
    if (xen) console.log(`lab down: stopped the Xen host ${xen}`);
    const r = await labDown(opts);
    const gone = [...r.removed, ...r.guests];
    console.log(gone.length ? `lab down: removed ${gone.join(", ")}` : "lab down: nothing to remove");
    return 0;
  }
  if (cmd === "status") {
    const { state, nodes, guests } = await labStatus(opts);
    if (!state) {
      console.log("no lab (run `deno task lab up --nodes 3`)");
      return 1;
    }
    console.log(
      `lab ${state.dir}: ${nodes.length} nodes${
        nodes.length ? `, bridge ${state.bridge} ${state.bridgeIp}/24` : ""
      }, ${guests.length} guests`,
    );
    for (const n of nodes) {
      const ok = n.namespace && n.sshd && n.port;
      console.log(
        `  ${n.name.padEnd(5)} ${n.ip.padEnd(14)} ${ok ? "up" : "DOWN"}  netns:${n.namespace ? "yes" : "no"} sshd:${
          n.sshd ? "yes" : "no"
        } port22:${n.port ? "open" : "closed"}${n.bmcPort ? ` bmc:127.0.0.1:${n.bmcPort}` : ""}`,
      );
    }
    for (const g of guests) {
      console.log(
        `  ${g.name.padEnd(5)} ${`127.0.0.1:${g.port}`.padEnd(16)} ${g.alive ? "up" : "DOWN"}  qemu:${
          g.alive ? `pid ${g.pid}` : "not running"
        }`,
      );
    }
    const xen = await runningLabXen(resolveOptions(opts).dir);
    if (xen) {
      console.log(
        `  ${xen.name.padEnd(5)} ${`127.0.0.1:${xen.sshPort}`.padEnd(16)} up  Xen ${xen.xen} (pid ${xen.pid})`,
      );
    }
    return nodes.every((n) => n.namespace && n.sshd && n.port) && guests.every((g) => g.alive) ? 0 : 1;
  }
  throw new InputError("command", "up, down or status", cmd, { hint: USAGE });
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`lab: ${formatError(e)}`);
    Deno.exit(1);
  }
}
