/**
 * A real single-host Slurm for tests: a private munged (own socket and copy of the key), slurmctld and slurmd from
 * Debian slurm-wlm with a minimal slurm.conf in a temp dir, on random ports. `startSlurm()` returns a reason string
 * when it cannot run here (so tests skip with it), or a handle whose `stop()` ends every daemon it started.
 */
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { needCommand } from "../../_helpers.ts";

/** A running test cluster. */
export interface TestSlurm {
  dir: string;
  conf: string;
  /** Ends the daemons (SIGTERM, then SIGKILL after 5 s) and removes their directory. */
  stop(): Promise<void>;
  /** Kills the daemons at once (for an unload handler, which cannot wait). */
  kill(): void;
}

function firstMissing(): string | null {
  for (
    const [cmd, pkg] of [["munged", "munge"], ["slurmctld", "slurm-wlm"], ["slurmd", "slurm-wlm"], [
      "sbatch",
      "slurm-wlm",
    ]]
  ) {
    const r = needCommand(cmd, pkg);
    if (r) return r;
  }
  if (Deno.uid() !== 0) return "starting slurmd needs root";
  if (!existsSync("/etc/munge/munge.key")) return "no munge key (/etc/munge/munge.key)";
  return null;
}

function sh(cmd: string, args: string[], env: Record<string, string>): { ok: boolean; out: string } {
  const r = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).outputSync();
  return { ok: r.success, out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

/** Starts munged, slurmctld and slurmd; waits until the node is idle (two tries on fresh ports, 30 s each). */
export async function startSlurm(): Promise<TestSlurm | string> {
  const missing = firstMissing();
  if (missing) return missing;
  const first = await startOnce();
  return typeof first === "string" ? await startOnce() : first;
}

async function startOnce(): Promise<TestSlurm | string> {
  const dir = Deno.makeTempDirSync({ prefix: "hyperlab-slurm-" });
  const host = Deno.hostname();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const key = join(dir, "munge.key");
  copyFileSync("/etc/munge/munge.key", key);
  Deno.chmodSync(key, 0o600);
  const sock = join(dir, "munge.sock");
  const conf = join(dir, "slurm.conf");
  for (const d of ["state", "spool"]) Deno.mkdirSync(join(dir, d));
  Deno.writeTextFileSync(
    conf,
    [
      "ClusterName=hltest",
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${sock}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "ReturnToService=2",
      "SchedulerType=sched/builtin",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "MpiDefault=none",
      "JobCompType=jobcomp/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      "MinJobAge=300",
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${
        Math.max(2, navigator.hardwareConcurrency)
      } RealMemory=1000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const children: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) => {
    children.push(
      new Deno.Command(cmd, { args, env, stdin: "null", stdout: "null", stderr: "null" }).spawn(),
    );
  };
  const stop = async () => {
    for (const c of [...children].reverse()) {
      try {
        c.kill("SIGTERM");
      } catch { /* gone */ }
    }
    const timer = setTimeout(() => {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch { /* gone */ }
      }
    }, 5_000);
    await Promise.all(children.map((c) => c.status));
    clearTimeout(timer);
    Deno.env.delete("SLURM_CONF");
    Deno.removeSync(dir, { recursive: true });
  };
  spawn("munged", [
    "-F",
    "-f",
    `--socket=${sock}`,
    `--key-file=${key}`,
    `--log-file=${dir}/munged.log`,
    `--pid-file=${dir}/munged.pid`,
    `--seed-file=${dir}/munged.seed`,
  ]);
  const until = async (what: string, ms: number, ok: () => boolean): Promise<string | null> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (ok()) return null;
      await new Promise((r) => setTimeout(r, 200));
    }
    return what;
  };
  let why = await until("munged did not start", 10_000, () => existsSync(sock));
  if (!why) {
    spawn("slurmctld", ["-D", "-i", "-f", conf]);
    spawn("slurmd", ["-D", "-f", conf]);
    why = await until("slurmctld/slurmd did not bring the node up", 30_000, () => {
      const r = sh("sinfo", ["-h", "-o", "%t"], env);
      return r.ok && /^idle/m.test(r.out);
    });
  }
  if (why) {
    let log = "";
    for (const f of ["slurmctld.log", "slurmd.log", "munged.log"]) {
      try {
        log += `\n${f}: ${readFileSync(join(dir, f), "utf8").trim().split("\n").slice(-3).join(" | ")}`;
      } catch { /* none */ }
    }
    await stop();
    return `${why}${log}`;
  }
  Deno.env.set("SLURM_CONF", conf);
  const kill = () => {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
  };
  return { dir, conf, stop, kill };
}
