/**
 * `deno task lab up --nodes N | down | status`: the local lab of SSH nodes (see lab_nodes.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { labDown, type LabOptions, labStatus, labUp } from "./lab_nodes.ts";

const USAGE = `usage: deno task lab up --nodes N [--ipmi] | down | status   [--dir D] [--prefix P] [--subnet S]
  up      create N lab nodes (network namespaces + bridge + sshd each), idempotent;
          --ipmi gives each node a simulated BMC (ipmi_sim) whose power is the node itself
  down    remove the lab completely
  status  show each node's namespace, sshd and port 22`;

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      dir: { type: "string" },
      prefix: { type: "string" },
      subnet: { type: "string" },
      ipmi: { type: "boolean" },
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
      "up --nodes N [--ipmi] | down | status, with --dir/--prefix/--subnet",
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
  const int = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new InputError(flag, "a whole number", v);
    return Number(v);
  };
  const opts: LabOptions = { dir: values.dir, prefix: values.prefix, subnet: int("--subnet", values.subnet) };
  if (cmd === "up") {
    const n = int("--nodes", values.nodes);
    if (n === undefined) throw new InputError("--nodes", "the number of nodes, e.g. --nodes 3");
    const t0 = performance.now();
    const s = await labUp(n, { ...opts, ipmi: values.ipmi });
    console.log(`lab up: ${s.nodes.length} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const node of s.nodes) console.log(`  ${node.name}  ${node.ip}  (netns ${node.ns})`);
    console.log(`inventory: ${s.inventory}  (use --inventory lab)`);
    return 0;
  }
  if (cmd === "down") {
    const r = await labDown(opts);
    console.log(r.removed.length ? `lab down: removed ${r.removed.join(", ")}` : "lab down: nothing to remove");
    return 0;
  }
  if (cmd === "status") {
    const { state, nodes } = await labStatus(opts);
    if (!state) {
      console.log("no lab (run `deno task lab up --nodes 3`)");
      return 1;
    }
    console.log(`lab ${state.dir}: ${nodes.length} nodes, bridge ${state.bridge} ${state.bridgeIp}/24`);
    for (const n of nodes) {
      const ok = n.namespace && n.sshd && n.port;
      console.log(
        `  ${n.name.padEnd(5)} ${n.ip.padEnd(14)} ${ok ? "up" : "DOWN"}  netns:${n.namespace ? "yes" : "no"} sshd:${
          n.sshd ? "yes" : "no"
        } port22:${n.port ? "open" : "closed"}${n.bmcPort ? ` bmc:127.0.0.1:${n.bmcPort}` : ""}`,
      );
    }
    return nodes.every((n) => n.namespace && n.sshd && n.port) ? 0 : 1;
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
