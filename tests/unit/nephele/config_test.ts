import assert from "node:assert/strict";
import { NepheleParams, parentXlConfig, parentXlConfigText } from "../../../lib/nephele/mod.ts";
import { parseXlConfig } from "../../../lib/xen/mod.ts";

const params = (over: Record<string, unknown> = {}) => NepheleParams.parse({ inventory: "x", ...over });

Deno.test("xl config of the seed's parent: 1-vCPU PV, max_clones, vif, cmdline; round-trips through lib/xen", () => {
  const text = parentXlConfigText(params({ maxClones: 2 }));
  assert.equal(
    text,
    [
      `name = "unikraft-cloning-app"`,
      `type = "pv"`,
      `memory = 32`,
      `vcpus = 1`,
      `cpus = "2-3"`,
      `kernel = "cloning-apps_xen-x86_64"`,
      `cmdline = " -- -a measure-fork -m 16MB"`,
      `vif = [ "mac=aa:bb:cc:06:06:02,ip=10.8.0.2 255.255.255.0 10.8.0.1,bridge=bond0" ]`,
      `on_crash = "preserve"`,
      `max_clones = "2"`,
      "",
    ].join("\n"),
  );
  assert.deepEqual(parseXlConfig(text), parentXlConfig(params({ maxClones: 2 })));
});

Deno.test("skip_cloning, --send-time, no network, max_clones defaulting to --clones", () => {
  const c = parentXlConfig(
    params({ skipCloning: ["network", "9pfs"], sendTime: true, noNetwork: true, clones: 7, appArgs: "-a nginx" }),
  );
  assert.deepEqual(c.skip_cloning, ["network", "9pfs"]);
  assert.equal(c.cmdline, " -- -a nginx --send-time");
  assert.equal(c.vif, undefined);
  assert.equal(c.max_clones, 7);
  assert.match(parentXlConfigText(params({ skipCloning: ["network", "9pfs"] })), /^skip_cloning = "network;9pfs"$/m);
});

Deno.test("bad inputs name the field: name, mac, skip_cloning value, max_clones 0, quotes in app args", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ name: "-bad name" }, /name/],
    [{ mac: "aa:bb" }, /mac/],
    [{ skipCloning: ["console"] }, /skipCloning/],
    [{ maxClones: 0 }, /maxClones/],
    [{ cpus: "two" }, /cpus/],
  ];
  for (const [over, re] of bad) {
    const r = NepheleParams.safeParse({ inventory: "x", ...over });
    assert.equal(r.success, false, JSON.stringify(over));
    assert.match(JSON.stringify(r.error!.issues.map((i) => i.path)), re);
  }
  assert.throws(() => parentXlConfig(params({ appArgs: `-a "x"` })), /--app-args: expected arguments without quotes/);
  assert.throws(() => parentXlConfig(params({ memoryMb: 32, name: "a".repeat(3) + " " })), /name/);
});
