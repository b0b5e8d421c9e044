import assert from "node:assert/strict";
import { InputError, MissingError } from "../../../lib/core/errors.ts";
import {
  childrenOf,
  completionStats,
  consoleLogPaths,
  parsePreflight,
  parseTimeReport,
  parseXenclonedLog,
  requireCloningXen,
  xenclonedArgv,
} from "../../../lib/nephele/mod.ts";
import { parseXlList } from "../../../lib/xen/mod.ts";

Deno.test("xencloned log: ring, cloned pairs, completions, EBUSY", () => {
  const log = parseXenclonedLog([
    "xencloned: notification ring=0x7f3a2c001000 entries_num=128",
    "cloned 5 -> 6",
    "cloned 5 -> 7",
    "clone completion domid=6 msec=33",
    "clone completion domid=7 msec=34.5",
  ].join("\n"));
  assert.deepEqual(log.ring, { ring: "0x7f3a2c001000", entries: 128 });
  assert.deepEqual(log.cloned, [{ parent: 5, child: 6 }, { parent: 5, child: 7 }]);
  assert.deepEqual(log.completions, [{ domid: 6, msec: 33 }, { domid: 7, msec: 34.5 }]);
  assert.equal(log.busy, false);
  assert.deepEqual(completionStats(log.completions), { n: 2, mean: 33.75, min: 33, max: 34.5 });
  assert.equal(completionStats([]), undefined);
  const busy = parseXenclonedLog("xc_cloning_enable failed: Device or resource busy (-16)");
  assert.equal(busy.busy, true);
  assert.equal(busy.ring, undefined);
});

Deno.test("xencloned argv: the seed's --cache -x, and every option", () => {
  assert.deepEqual(xenclonedArgv({ path: "/usr/sbin/xencloned", cache: true, sharingPool: true }), [
    "/usr/sbin/xencloned",
    "-c",
    "-x",
  ]);
  assert.deepEqual(
    xenclonedArgv({ path: "x", leavePaused: true, ringPages: 4, noIoCloning: true, deepCopy: true }),
    ["x", "-p", "-r", "4", "-n", "-d"],
  );
});

Deno.test("time reports: plain, parent and child forms; malformed ones name the format", () => {
  assert.deepEqual(parseTimeReport("1700000000.123456"), {
    sec: 1700000000,
    usec: 123456,
    timeUs: 1700000000123456,
    role: undefined,
    index: undefined,
  });
  assert.deepEqual(parseTimeReport("12.5;child;3\0"), { sec: 12, usec: 5, timeUs: 12000005, role: "child", index: 3 });
  assert.equal(parseTimeReport("1.000001;parent;0").role, "parent");
  for (const bad of ["", "12", "12.1234567", "12.5;sibling;1", "12.5;child", "x.y"]) {
    assert.throws(() => parseTimeReport(bad), /time report: expected "<sec>.<usec>\[;parent\|child;<i>\]"/, bad);
  }
});

Deno.test("children in xl list: exact <name>-child-<domid>, not substrings; console log paths", () => {
  const rows = parseXlList([
    "Name                                        ID   Mem VCPUs\tState\tTime(s)",
    "Domain-0                                     0  1024     2     r-----      12.3",
    "app                                          5    32     1     -b----       0.4",
    "app-child-6                                  6    32     1     -b----       0.0",
    "app-child-7                                  7    32     1     -b----       0.0",
    "app-child-9                                  8    32     1     -b----       0.0",
    "app2-child-10                               10    32     1     -b----       0.0",
    "myapp-child-11                              11    32     1     -b----       0.0",
  ].join("\n"));
  assert.deepEqual(childrenOf("app", rows).map((r) => r.id), [6, 7]);
  assert.deepEqual(consoleLogPaths("app", [6, 7]), [
    "/var/log/xen/guest/guest-app.log",
    "/var/log/xen/guest/guest-app-child-6.log",
    "/var/log/xen/guest/guest-app-child-7.log",
  ]);
});

Deno.test("preflight: no Xen, stock Xen without clone, no xencloned, Linux bridge", () => {
  const p = { xencloned: "/usr/local/sbin/xencloned", bridge: "br0", noNetwork: false, skipCloning: [] as string[] };
  const none = parsePreflight("xl no\nxenstore-read yes\nprivcmd no\nxencloned no\nbridge absent\n");
  assert.throws(() => requireCloningXen(none, "n1", p), (e: unknown) => {
    assert.ok(e instanceof MissingError);
    assert.match(e.message, /n1 is not a Xen dom0 that Nephele can use: missing xl \(xen-utils\), \/dev\/xen\/privcmd/);
    return true;
  });
  const stock = parsePreflight("xl yes\nxenstore-read yes\nprivcmd yes\nxencloned no\nclone no\nbridge other\n");
  assert.throws(
    () => requireCloningXen(stock, "n1", p),
    /n1 cannot clone VMs: missing the clone hypercall: `xl help` lists no `clone` command .*; xencloned at \/usr\/local\/sbin\/xencloned/,
  );
  const ok = parsePreflight("xl yes\nxenstore-read yes\nprivcmd yes\nxencloned yes\nclone yes\nbridge other\n");
  requireCloningXen(ok, "n1", p);
  const linux = { ...ok, bridge: "linux" as const };
  assert.throws(() => requireCloningXen(linux, "n1", p), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.field, "--bridge");
    assert.match(e.message, /Open vSwitch bridge .*-ENOTSUP/);
    return true;
  });
  requireCloningXen(linux, "n1", { ...p, skipCloning: ["network"] });
  assert.throws(
    () => requireCloningXen({ ...ok, bridge: "absent" }, "n1", p),
    /--bridge: expected a bridge that exists on n1/,
  );
});
