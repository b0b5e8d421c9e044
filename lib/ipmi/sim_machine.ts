/**
 * The machine behind a simulated BMC: while "powered on" it writes its serial console to the simulator's console
 * relay (a boot banner with a boot counter, then uptime lines). Started and killed by the BMC's chassis-control
 * script (see sim.ts). Usage: sim_machine.ts <name> <relayPort> <stateDir>
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";

if (import.meta.main) {
  const [name, portText, stateDir] = Deno.args;
  const countFile = join(stateDir, "boots");
  let boots = 0;
  try {
    boots = Number(readFileSync(countFile, "utf8")) || 0;
  } catch { /* first boot */ }
  boots++;
  writeFileSync(countFile, String(boots));
  const started = Date.now();
  // The serial line: the simulator's console relay (always up, like a BMC's UART).
  let line: Socket | undefined;
  const plug = () => {
    const s = connect({ host: "127.0.0.1", port: Number(portText) });
    s.once("connect", () => {
      line = s;
      s.write(`hyperlab-sim ${name}: boot ${boots}\r\n`);
    });
    s.on("error", () => {});
    s.once("close", () => {
      line = undefined;
      setTimeout(plug, 100);
    });
  };
  plug();
  setInterval(
    () => line?.write(`${name} uptime ${((Date.now() - started) / 1000).toFixed(1)}s boot ${boots}\r\n`),
    200,
  );
}
