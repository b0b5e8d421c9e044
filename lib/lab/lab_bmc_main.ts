/**
 * The BMC daemon of one lab node (`deno task lab up --ipmi`): an ipmi_sim whose chassis power is the node itself —
 * power off kills every process in the node's namespace (sshd included), power on starts its sshd again — with the
 * node's serial console (a stand-in writer with a boot counter) on SOL. Writes `bmc.json` when ready; SIGTERM stops
 * it. Usage: lab_bmc_main.ts <bmcDir> <node> <passwordFile> <netns> <sshdConfig> <sshdPidFile> <sshdLog>
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BmcMachine, BmcSimulator, consoleWriter } from "../ipmi/mod.ts";
import { exitOnStopSignal } from "../core/stop_signals.ts";

function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The lab node as the machine behind its BMC. */
export function labNodeMachine(
  dir: string,
  node: string,
  relayPort: number,
  ns: string,
  sshdConfig: string,
  sshdPid: string,
  sshdLog: string,
): BmcMachine {
  const console = consoleWriter(dir, node, relayPort);
  const startConsole = `setsid ${console} </dev/null >>"$D/machine.log" 2>&1 & echo $! >"$D/machine.pid"`;
  return {
    running: `[ -f ${q(sshdPid)} ] && alive "$(cat ${q(sshdPid)})"`,
    on: `ip netns exec ${q(ns)} /usr/sbin/sshd -f ${q(sshdConfig)} -E ${q(sshdLog)}; ${startConsole}`,
    off: `for p in $(ip netns pids ${q(ns)}); do kill -9 "$p" 2>/dev/null; done; ` +
      `if [ -f "$D/machine.pid" ]; then kill -9 "$(cat "$D/machine.pid")" 2>/dev/null; fi; rm -f "$D/machine.pid" ${
        q(sshdPid)
      }`,
  };
}

if (import.meta.main) {
  const [dir, node, passwordFile, ns, sshdConfig, sshdPid, sshdLog] = Deno.args;
  const password = readFileSync(passwordFile, "utf8").split("\n")[0];
  let relayPort = 0;
  const sim = await BmcSimulator.start(dir, node, password, {
    machine: (relay) => {
      relayPort = relay;
      return labNodeMachine(dir, node, relay, ns, sshdConfig, sshdPid, sshdLog);
    },
  });
  // The node is already up (lab up started its sshd): attach its console writer.
  const start = `D=${q(dir)}; [ -f "$D/machine.pid" ] || { setsid ${consoleWriter(dir, node, relayPort)} ` +
    `</dev/null >>"$D/machine.log" 2>&1 & echo $! >"$D/machine.pid"; }`;
  await new Deno.Command("/bin/sh", { args: ["-c", start] }).output();
  writeFileSync(
    join(dir, "bmc.json"),
    JSON.stringify({
      pid: Deno.pid,
      simPid: sim.pid,
      port: sim.bmc.port,
      consolePort: sim.bmc.consolePort,
      user: sim.bmc.user,
    }),
  );
  exitOnStopSignal(() => sim.stop());
}
