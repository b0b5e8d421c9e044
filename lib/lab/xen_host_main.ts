/**
 * `deno task xenlab up | down | status | ssh -- CMD`: the Xen lab host (Xen 4.17 + dom0 in QEMU) as a detached lab
 * node with an inventory under .hyperlab/lab/xen/ (see xen_host_lab.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { attachXenLab, readXenLabState, XEN_LAB_DIR, xenLabDown, xenLabUp } from "./xen_host_lab.ts";

const USAGE = `usage: deno task xenlab up [--name xen0] [--cpus 2] [--memory 2048] [--dom0-memory 1024] [--numa 2]
                        [--ssh-port P] [--oxenstored] [--cpu QEMU-CPU-MODEL] [--tcg-multi]
                        [--dir D]
       deno task xenlab status | down [--dir D]
       deno task xenlab ssh [--dir D] -- COMMAND...
  up      boot Xen + dom0 in QEMU (TCG), detached; writes <dir>/inventory.yaml (default ${XEN_LAB_DIR})
  status  QEMU alive, dom0 answering over SSH, boot times
  down    stop QEMU and remove the directory
  ssh     run a command in dom0`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      cpus: { type: "string" },
      memory: { type: "string" },
      "dom0-memory": { type: "string" },
      numa: { type: "string" },
      "ssh-port": { type: "string" },
      oxenstored: { type: "boolean" },
      cpu: { type: "string" },
      "tcg-multi": { type: "boolean" },
      dir: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    console.log(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  const dir = values.dir ?? XEN_LAB_DIR;
  const int = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new InputError(flag, "a whole number", v);
    return Number(v);
  };
  if (cmd === "up") {
    const t0 = performance.now();
    const s = await xenLabUp({
      name: values.name,
      cpus: int("--cpus", values.cpus),
      memoryMiB: int("--memory", values.memory),
      dom0MemoryMiB: int("--dom0-memory", values["dom0-memory"]),
      numaNodes: int("--numa", values.numa),
      sshPort: int("--ssh-port", values["ssh-port"]),
      xenstored: values.oxenstored ? "oxenstored" : undefined,
      cpuModel: values.cpu,
      tcgThread: values["tcg-multi"] ? "multi" : undefined,
    }, dir);
    const sec = (ms?: number) => ms === undefined ? "?" : (ms / 1000).toFixed(1);
    console.log(
      `xenlab up: ${s.name} (Xen ${s.xen}) in ${sec(performance.now() - t0)} s; QEMU start → dom0 ready ` +
        `${sec(s.bootTimes.readyMs)} s, → SSH ${sec(s.bootTimes.sshReadyMs)} s`,
    );
    console.log(`  ssh root@127.0.0.1 -p ${s.sshPort} -i ${s.key}   (QEMU pid ${s.pid})`);
    console.log(`inventory: ${s.inventory}`);
    return 0;
  }
  if (cmd === "down") {
    const r = await xenLabDown(dir);
    console.log(r.stopped ? `xenlab down: stopped ${r.stopped}` : "xenlab down: nothing running");
    return 0;
  }
  if (cmd === "status") {
    const s = await readXenLabState(dir);
    if (!s) {
      console.log("no Xen lab host (run `deno task xenlab up`)");
      return 1;
    }
    let ok = false;
    let detail = "";
    try {
      const host = await attachXenLab(dir);
      const r = await host.exec("xl list | tail -n +2 | wc -l; cat /sys/hypervisor/version/major", {
        timeoutMs: 20_000,
      });
      ok = r.code === 0;
      detail = ok ? `${r.stdout.trim().split("\n")[0]} domain(s)` : r.stderr.trim();
    } catch (e) {
      detail = formatError(e);
    }
    console.log(`${s.name}: ${ok ? "up" : "DOWN"}  ssh 127.0.0.1:${s.sshPort}  pid ${s.pid}  ${detail}`);
    console.log(`inventory: ${s.inventory}`);
    return ok ? 0 : 1;
  }
  if (cmd === "ssh") {
    const command = positionals.slice(1).join(" ");
    if (!command) throw new InputError("COMMAND", "a command to run in dom0, after --");
    const host = await attachXenLab(dir);
    const r = await host.exec(command, { timeoutMs: 600_000 });
    await Deno.stdout.write(new TextEncoder().encode(r.stdout));
    await Deno.stderr.write(new TextEncoder().encode(r.stderr));
    return r.code;
  }
  throw new InputError("command", "up, down, status or ssh", cmd, { hint: USAGE });
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`xenlab: ${formatError(e)}`);
    Deno.exit(1);
  }
}
