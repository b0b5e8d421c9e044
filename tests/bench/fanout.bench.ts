/**
 * `deno task bench fanout`: a trivial command (`true`) on 16 and 64 lab nodes (real sshd in network namespaces,
 * login shell /bin/sh), cold (no connection open) and warm, side by side: hyperlab (npm:ssh2, persistent
 * connections), a parallel OpenSSH ControlMaster loop (the floor), parallel-ssh (Debian pssh) and Ansible ad-hoc
 * `-m raw` with forks = N and ControlPersist (Debian ansible-core).
 * Targets: warm ≤ 1.0× the ControlMaster floor; ≥ 20× faster than Ansible -m raw; cold ≤ 0.5× parallel-ssh.
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { labDown, type LabState, labUp } from "../../lib/lab/lab_nodes.ts";
import { connectCluster } from "../../lib/remote/mod.ts";
import { type Bench, emitResult, printTable, type Target } from "./_report.ts";

const SIZES = [16, 64];
const WARM_REPS = 5;
const COLD_REPS = 3;
const LAB = { prefix: "hlbf", subnet: 203 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function missing(cmd: string): boolean {
  return !new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null", stderr: "null" }).outputSync()
    .success;
}

async function timed(cmd: string, args: string[], env?: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const o = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (!o.success) {
    throw new Error(
      `${cmd} failed (exit ${o.code}): ${new TextDecoder().decode(o.stderr).slice(-600)}${
        new TextDecoder().decode(o.stdout).slice(-600)
      }`,
    );
  }
  return ms;
}

function sshOpts(lab: LabState): string[] {
  return [
    "-i",
    lab.key,
    "-o",
    `UserKnownHostsFile=${lab.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
  ];
}

/** Parallel `ssh` processes; with `control` they reuse ControlMaster sockets. */
async function sshLoop(lab: LabState, ips: string[], control?: string): Promise<number> {
  const t0 = performance.now();
  const extra = control ? ["-o", `ControlPath=${control}/%h`] : [];
  const results = await Promise.all(
    ips.map((ip) =>
      new Deno.Command("ssh", {
        args: [...sshOpts(lab), ...extra, `${lab.user}@${ip}`, "true"],
        stdout: "null",
        stderr: "piped",
      })
        .output()
    ),
  );
  const ms = performance.now() - t0;
  const bad = results.find((r) => !r.success);
  if (bad) throw new Error(`ssh failed: ${new TextDecoder().decode(bad.stderr)}`);
  return ms;
}

/**
 * Cold: a new Cluster (no connection open) runs `true` on every node; median of COLD_REPS fresh clusters (the first
 * sample, which also pays JIT warm-up of the SSH code in this process, is reported separately). Warm: the same
 * command on open connections.
 */
async function hyperlab(lab: LabState, n: number): Promise<{ cold: number; coldFirst: number; warm: number }> {
  const inv = await loadInventory(lab.inventory, `#0-${n - 1}`);
  const colds: number[] = [];
  let cluster = connectCluster(inv);
  for (let i = 0; i < COLD_REPS; i++) {
    if (i > 0) {
      cluster.close();
      cluster = connectCluster(inv);
    }
    const t0 = performance.now();
    const first = await cluster.run(["true"], { stream: false });
    colds.push(performance.now() - t0);
    if (first.ok.length !== n) throw new Error(`hyperlab: ${first.failed.length} nodes failed`);
  }
  const warm: number[] = [];
  try {
    for (let i = 0; i < WARM_REPS; i++) {
      const t = performance.now();
      const r = await cluster.run(["true"], { stream: false });
      warm.push(performance.now() - t);
      if (r.ok.length !== n) throw new Error("hyperlab warm run failed");
    }
  } finally {
    cluster.close();
  }
  return { cold: median(colds), coldFirst: colds[0], warm: median(warm) };
}

async function controlMaster(lab: LabState, ips: string[], dir: string): Promise<{ cold: number; warm: number }> {
  const control = join(dir, `cm-${ips.length}`);
  Deno.mkdirSync(control, { recursive: true });
  const cold = await sshLoop(lab, ips); // plain parallel ssh, a new connection each
  await Promise.all(
    ips.map((ip) =>
      timed("ssh", [
        ...sshOpts(lab),
        "-o",
        `ControlPath=${control}/%h`,
        "-o",
        "ControlMaster=yes",
        "-o",
        "ControlPersist=120",
        "-fN",
        `${lab.user}@${ip}`,
      ])
    ),
  );
  const warm: number[] = [];
  try {
    for (let i = 0; i < WARM_REPS; i++) warm.push(await sshLoop(lab, ips, control));
  } finally {
    await Promise.all(
      ips.map((ip) =>
        new Deno.Command("ssh", {
          args: ["-o", `ControlPath=${control}/%h`, "-O", "exit", ip],
          stdout: "null",
          stderr: "null",
        }).output()
      ),
    );
  }
  return { cold, warm: median(warm) };
}

async function pssh(lab: LabState, ips: string[], dir: string): Promise<number> {
  const hosts = join(dir, `pssh-hosts-${ips.length}`);
  writeFileSync(hosts, ips.join("\n") + "\n");
  const runs: number[] = [];
  for (let i = 0; i < 2; i++) {
    runs.push(
      await timed("parallel-ssh", [
        "-h",
        hosts,
        "-p",
        String(ips.length),
        "-l",
        lab.user,
        "-x",
        sshOpts(lab).join(" "),
        "true",
      ]),
    );
  }
  return median(runs);
}

async function ansible(lab: LabState, ips: string[], dir: string): Promise<{ cold: number; warm: number }> {
  const d = join(dir, `ansible-${ips.length}`);
  Deno.mkdirSync(join(d, "cp"), { recursive: true });
  writeFileSync(join(d, "hosts.ini"), "[lab]\n" + ips.join("\n") + "\n");
  writeFileSync(
    join(d, "ansible.cfg"),
    `[defaults]
host_key_checking = True
gathering = explicit
forks = ${ips.length}
remote_user = ${lab.user}
private_key_file = ${lab.key}
interpreter_python = auto_silent
[ssh_connection]
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=${lab.knownHosts} -o StrictHostKeyChecking=yes
control_path_dir = ${join(d, "cp")}
pipelining = True
`,
  );
  const env = { ANSIBLE_CONFIG: join(d, "ansible.cfg"), ANSIBLE_LOCAL_TEMP: join(d, "tmp"), HOME: d };
  const args = ["lab", "-i", join(d, "hosts.ini"), "-m", "raw", "-a", "true", "-f", String(ips.length)];
  const cold = await timed("ansible", args, env);
  const warm = [await timed("ansible", args, env)]; // one warm run: ansible is 20-50x slower, one sample tells
  await Promise.all(
    ips.map((ip) =>
      new Deno.Command("ssh", {
        args: ["-o", `ControlPath=${join(d, "cp")}/%C`, "-O", "exit", ip],
        stdout: "null",
        stderr: "null",
      })
        .output()
    ),
  );
  return { cold, warm: median(warm) };
}

const bench: Bench = {
  name: "fanout",
  description: "`true` on 16/64 lab nodes, cold+warm: hyperlab vs ControlMaster loop, parallel-ssh, ansible -m raw",
  async run() {
    if (Deno.uid() !== 0) throw new Error("fanout bench needs root (it builds a 64-node lab of network namespaces)");
    const absent = ["sshd", "ip", "parallel-ssh", "ansible"].filter(missing);
    if (absent.length) {
      throw new Error(`missing: ${absent.join(", ")} (Debian: openssh-server iproute2 pssh ansible-core)`);
    }
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-bench-fanout-" });
    const opts = { ...LAB, dir: join(dir, "lab") };
    const results: Record<string, Record<string, number>> = {};
    const targets: Record<string, Target> = {};
    const rows: (string | number)[][] = [];
    try {
      await labDown(opts);
      const t0 = performance.now();
      const lab = await labUp(Math.max(...SIZES), opts);
      console.log(`lab of ${lab.nodes.length} nodes up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const n of SIZES) {
        const ips = lab.nodes.slice(0, n).map((x) => x.ip);
        const hl = await hyperlab(lab, n);
        const cm = await controlMaster(lab, ips, dir);
        const ps = await pssh(lab, ips, dir);
        const an = await ansible(lab, ips, dir);
        results[`n${n}`] = {
          hyperlab_cold_ms: hl.cold,
          hyperlab_cold_first_ms: hl.coldFirst,
          hyperlab_warm_ms: hl.warm,
          openssh_cold_ms: cm.cold,
          controlmaster_warm_ms: cm.warm,
          pssh_ms: ps,
          ansible_raw_cold_ms: an.cold,
          ansible_raw_warm_ms: an.warm,
        };
        rows.push(
          [n, `hyperlab (ssh2, persistent; 1st cold ${hl.coldFirst.toFixed(0)} ms)`, hl.cold, hl.warm, "1.00", "1.00"],
          [
            n,
            "OpenSSH parallel / ControlMaster",
            cm.cold,
            cm.warm,
            (hl.cold / cm.cold).toFixed(2),
            (hl.warm / cm.warm).toFixed(2),
          ],
          [n, "parallel-ssh (pssh)", ps, ps, (hl.cold / ps).toFixed(2), (hl.warm / ps).toFixed(3)],
          [
            n,
            "ansible -m raw (ControlPersist)",
            an.cold,
            an.warm,
            (hl.cold / an.cold).toFixed(2),
            (hl.warm / an.warm).toFixed(3),
          ],
        );
        targets[`n${n}_warm_vs_controlmaster`] = { value: hl.warm / cm.warm, target: 1.0, op: "<=" };
        targets[`n${n}_ansible_raw_warm_over_hyperlab_warm`] = { value: an.warm / hl.warm, target: 20, op: ">=" };
        targets[`n${n}_cold_vs_pssh`] = { value: hl.cold / ps, target: 0.5, op: "<=" };
      }
    } finally {
      await labDown(opts).catch((e) => console.error(`lab down failed: ${e}`));
      Deno.removeSync(dir, { recursive: true });
    }
    printTable(
      "fan-out of `true` (ms; ratio = hyperlab / tool, lower is better for hyperlab)",
      ["nodes", "tool", "cold ms", "warm ms", "hl/tool cold", "hl/tool warm"],
      rows,
    );
    emitResult("fanout", results, targets);
  },
};
export default bench;
