/**
 * A simulated BMC on loopback for the lab and tests: OpenIPMI's `ipmi_sim` (Debian `openipmi`) speaking real
 * IPMI-over-LAN (RMCP+), with chassis power driven by a script that starts and kills a stand-in machine process,
 * and SOL connected to that machine's console port.
 * @module
 */
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { HyperlabError, InputError, MissingError } from "../core/errors.ts";

/** POSIX single-quoting (kept local: lib/remote imports lib/ipmi, so importing it back would make a cycle). */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Where a simulated BMC listens and how to log in. */
export interface SimulatedBmc {
  host: "127.0.0.1";
  /** UDP port of the BMC (RMCP). */
  port: number;
  user: string;
  password: string;
  /** TCP port of the machine's serial console. */
  consolePort: number;
  /** Directory holding config and state. */
  dir: string;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * What the BMC's power controls, as shell snippets run by the chassis-control script (`$D` is the BMC directory).
 * `console` is the command line of the machine's console writer (started on power on, killed on power off).
 */
export interface BmcMachine {
  /** Exits 0 while the machine is powered. */
  running: string;
  /** Powers it on; must return promptly (detach long-running processes). */
  on: string;
  /** Powers it off. */
  off: string;
}

/** Command line of the stand-in console writer (boot banner, boot counter, uptime lines). */
export function consoleWriter(dir: string, name: string, relayPort: number): string {
  const machine = fileURLToPath(new URL("./sim_machine.ts", import.meta.url));
  return [Deno.execPath(), "run", "--no-config", "--no-lock", "-A", machine, name, String(relayPort), dir]
    .map(shQuote).join(" ");
}

const ALIVE = `alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) [ZX]' "/proc/$1/stat"; }`;

/** The default machine: just the console writer process; powered while it runs. */
export function standInMachine(dir: string, name: string, relayPort: number): BmcMachine {
  const start = consoleWriter(dir, name, relayPort);
  return {
    running: `[ -f "$D/machine.pid" ] && alive "$(cat "$D/machine.pid")"`,
    on: `setsid ${start} </dev/null >>"$D/machine.log" 2>&1 & echo $! >"$D/machine.pid"`,
    off: `if [ -f "$D/machine.pid" ]; then kill -9 "$(cat "$D/machine.pid")" 2>/dev/null; fi; rm -f "$D/machine.pid"`,
  };
}

function chassisScript(dir: string, m: BmcMachine): string {
  // ipmi_sim runs `<script> get power` (answer `power:0|1`) and `<script> set power "<0|1>"`.
  return `#!/bin/sh
D=${shQuote(dir)}
${ALIVE}
running() { ${m.running}; }
case "$1" in
get) if running; then echo "power:1"; else echo "power:0"; fi ;;
set)
  shift
  while [ $# -ge 2 ]; do
    if [ "$1" = power ]; then
      if [ "$2" = 1 ]; then
        running || { ${m.on}; }
      else
        ${m.off}
      fi
    fi
    shift 2
  done ;;
esac
exit 0
`;
}

/**
 * The serial cable between machine and BMC: ipmi_sim's SOL connects to `solPort` and stays connected whatever the
 * power state; the machine connects to `machinePort` while it runs. Bytes flow both ways.
 */
class ConsoleRelay {
  readonly #servers: Server[] = [];
  readonly #bmcSide = new Set<Socket>();
  readonly #machineSide = new Set<Socket>();

  static async start(): Promise<{ relay: ConsoleRelay; solPort: number; machinePort: number }> {
    const relay = new ConsoleRelay();
    const listen = (peers: Set<Socket>, others: Set<Socket>) =>
      new Promise<number>((resolve, reject) => {
        const srv = createServer((sock) => {
          peers.add(sock);
          sock.on("data", (d) => {
            for (const o of others) o.write(d);
          });
          sock.on("error", () => {});
          sock.on("close", () => peers.delete(sock));
        });
        relay.#servers.push(srv);
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => resolve((srv.address() as AddressInfo).port));
      });
    const solPort = await listen(relay.#bmcSide, relay.#machineSide);
    const machinePort = await listen(relay.#machineSide, relay.#bmcSide);
    return { relay, solPort, machinePort };
  }

  close(): void {
    for (const s of [...this.#bmcSide, ...this.#machineSide]) s.destroy();
    for (const srv of this.#servers) srv.close();
  }
}

/** A running ipmi_sim; `stop()` ends it and its machine. */
export class BmcSimulator implements AsyncDisposable {
  readonly bmc: SimulatedBmc;
  readonly #child: Deno.ChildProcess;
  readonly #relay: ConsoleRelay;

  private constructor(bmc: SimulatedBmc, child: Deno.ChildProcess, relay: ConsoleRelay) {
    this.bmc = bmc;
    this.#child = child;
    this.#relay = relay;
  }

  /**
   * Starts a BMC simulator in `dir` (created by the caller) named `name`. By default it controls a stand-in
   * machine (powered off at start); `machine` lets it control something real, e.g. a lab node's sshd.
   */
  static async start(
    dir: string,
    name: string,
    password: string,
    opts: { user?: string; machine?: (relayPort: number) => BmcMachine } = {},
  ): Promise<BmcSimulator> {
    const user = opts.user ?? "admin";
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new InputError("name", "letters, digits, '.', '_' or '-'", name);
    if (!/^[^\s"]{3,20}$/.test(password)) throw new InputError("password", "3-20 characters without spaces or quotes");
    const port = await freeUdpPort();
    const { relay, solPort: consolePort, machinePort } = await ConsoleRelay.start();
    const chassis = join(dir, "chassis.sh");
    const machine = (opts.machine ?? ((p) => standInMachine(dir, name, p)))(machinePort);
    writeFileSync(chassis, chassisScript(dir, machine), { mode: 0o700 });
    writeFileSync(
      join(dir, "lan.conf"),
      `name "${name}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${chassis}"
  sol "tcp:127.0.0.1:${consolePort}" 115200
  user 2 true "${user}" "${password}" admin 10 none md2 md5 straight
`,
      { mode: 0o600 },
    );
    writeFileSync(
      join(dir, "sim.emu"),
      "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n",
    );
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("ipmi_sim", {
        args: ["-c", join(dir, "lan.conf"), "-f", join(dir, "sim.emu"), "-s", join(dir, "state"), "-n"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      relay.close();
      if (e instanceof Deno.errors.NotFound) {
        throw new MissingError("ipmi_sim is not installed", "apt-get install openipmi");
      }
      throw e;
    }
    const sim = new BmcSimulator({ host: "127.0.0.1", port, user, password, consolePort, dir }, child, relay);
    // Ready when it answers on its UDP port (ipmitool with a short timeout).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const o = await new Deno.Command("ipmitool", {
        args: [
          "-I",
          "lanplus",
          "-C",
          "3",
          "-H",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          user,
          "-E",
          "-N",
          "1",
          "-R",
          "1",
          "mc",
          "info",
        ],
        env: { IPMI_PASSWORD: password },
        stdout: "null",
        stderr: "null",
      }).output();
      if (o.success) return sim;
      await new Promise((r) => setTimeout(r, 100));
    }
    await sim.stop();
    throw new HyperlabError("ipmi", `ipmi_sim in ${dir} did not answer on 127.0.0.1:${port}`);
  }

  /** Process id of ipmi_sim. */
  get pid(): number {
    return this.#child.pid;
  }

  /** How many times the machine booted (power on / cycle). */
  boots(): number {
    try {
      return Number(Deno.readTextFileSync(join(this.bmc.dir, "boots"))) || 0;
    } catch {
      return 0;
    }
  }

  /** Stops the simulator and powers the machine off. */
  async stop(): Promise<void> {
    await new Deno.Command("/bin/sh", { args: [join(this.bmc.dir, "chassis.sh"), "set", "power", "0"] }).output().catch(
      () => {},
    );
    try {
      this.#child.kill("SIGTERM");
    } catch { /* exited */ }
    await this.#child.status;
    await this.#child.stderr.cancel().catch(() => {});
    this.#relay.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
