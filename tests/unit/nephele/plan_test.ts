import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

async function dry(dir: string, flags: string[]) {
  Deno.writeTextFileSync(join(dir, "inv.yaml"), "nodes:\n  - { name: xen0, host: xen0.lab, user: root }\n");
  const r = await cli("play", [
    "nephele/xen-clone",
    "--inventory",
    join(dir, "inv.yaml"),
    ...flags,
    "--dry-run",
    "--json",
    "--results",
    join(dir, "r.db"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  return (json.plan as { kind: string; target: string; action: string }[]).map((p) =>
    `[${p.kind}] ${p.target}: ${p.action}`
  );
}

const sh = (s: string) => `/bin/sh -c '${s.replaceAll("'", `'\\''`)}'`;
const PREFLIGHT = (bridge: string) =>
  sh(
    `for c in xl xenstore-read; do if command -v $c >/dev/null 2>&1; then echo "$c yes"; else echo "$c no"; fi; done; ` +
      `if [ -e /dev/xen/privcmd ]; then echo "privcmd yes"; else echo "privcmd no"; fi; ` +
      `if [ -x /usr/local/sbin/xencloned ]; then echo "xencloned yes"; else echo "xencloned no"; fi; ` +
      `if command -v xl >/dev/null 2>&1; then if xl help 2>&1 | grep -Eq '^[[:space:]]*clone([[:space:]]|$)'; ` +
      `then echo "clone yes"; else echo "clone no"; fi; fi; ` +
      `if [ -d /sys/class/net/${bridge}/bridge ]; then echo "bridge linux"; elif [ -e /sys/class/net/${bridge} ]; ` +
      `then echo "bridge other"; else echo "bridge absent"; fi`,
  );

Deno.test("dry run, xl clone -b 4: the exact plan from preflight to teardown", async () => {
  using d = tempDir();
  const plan = await dry(d.path, ["--clones", "4", "--max-clones", "8", "--collector", "controller"]);
  assert.deepEqual(plan, [
    `[ssh] xen0: ${PREFLIGHT("bond0")}`,
    "[udp] controller: listen 0.0.0.0:32764, ack every report",
    `[ssh] xen0: ${
      sh(
        ": > /var/log/xen/xencloned.log; nohup /usr/local/sbin/xencloned -c -x >>/var/log/xen/xencloned.log 2>&1 " +
          "</dev/null & echo $!",
      )
    }`,
    `[wait] xen0: /var/log/xen/xencloned.log: "notification ring" line (timeout 60000 ms)`,
    "[file] xen0: write /tmp/unikraft-cloning-app.cfg:\n" + [
      `name = "unikraft-cloning-app"`,
      `type = "pv"`,
      `memory = 32`,
      `vcpus = 1`,
      `cpus = "2-3"`,
      `kernel = "cloning-apps_xen-x86_64"`,
      `cmdline = " -- -a measure-fork -m 16MB"`,
      `vif = [ "mac=aa:bb:cc:06:06:02,ip=10.8.0.2 255.255.255.0 10.8.0.1,bridge=bond0" ]`,
      `on_crash = "preserve"`,
      `max_clones = "8"`,
      "",
    ].join("\n"),
    "[xl] xen0: xl create /tmp/unikraft-cloning-app.cfg",
    "[wait] xen0: ping 10.8.0.2 answers (timeout 60000 ms)",
    `[ssh] xen0: ${sh("xl clone -b 4 unikraft-cloning-app")}`,
    "[wait] xen0: xl list: 4 domain(s) named unikraft-cloning-app-child-<domid> (timeout 120000 ms)",
    `[ssh] xen0: ${sh("cat /var/log/xen/xencloned.log 2>/dev/null || true")}`,
    "[ssh] xen0: cat /var/log/xen/guest/guest-unikraft-cloning-app.log and each child's",
    "[xl] xen0: xl destroy unikraft-cloning-app",
    `[ssh] xen0: ${sh("kill <xencloned pid> 2>/dev/null; true")}`,
  ]);
});

Deno.test("dry run, TCP fork trigger with xencloned options, sudo and kept domains", async () => {
  using d = tempDir();
  const plan = await dry(d.path, [
    ...["--trigger", "tcp-fork", "--clones", "2", "--leave-paused", "--ring-pages", "4", "--deep-copy"],
    ...["--cache=false", "--sudo", "--keep-domains", "--bridge", "ovs0", "--skip-cloning", "9pfs"],
  ]);
  assert.equal(plan[0], `[ssh] xen0: ${PREFLIGHT("ovs0")}`);
  assert.match(plan[1], /nohup sudo -n \/usr\/local\/sbin\/xencloned -x -p -r 4 -d >>/);
  assert.match(plan[3], /^\[file\] xen0 \(sudo\): write .*skip_cloning = "9pfs"/s);
  assert.deepEqual(plan.filter((l) => l.includes("printf fork")), [
    `[ssh] xen0: ${sh("printf fork | nc -w 2 10.8.0.2 6613")}`,
    `[ssh] xen0: ${sh("printf fork | nc -w 2 10.8.0.2 6613")}`,
  ]);
  assert.ok(plan.includes("[xl] xen0 (sudo): xl create /tmp/unikraft-cloning-app.cfg"), "xl runs through sudo");
  assert.ok(!plan.some((l) => l.includes("xl destroy")), "kept domains are not destroyed");
  assert.equal(plan.at(-1), `[ssh] xen0: ${sh("sudo -n kill <xencloned pid> 2>/dev/null; true")}`);
});
