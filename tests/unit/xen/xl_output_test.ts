/**
 * Parsers of xl's output. The sample texts follow xl 4.17's printf formats (tools/xl/xl_list.c, xl_info.c,
 * xl_vcpu.c); they are written from those formats, not captured from a Xen host (that needs the Xen lab host).
 */
import assert from "node:assert/strict";
import { formatCpuList, parseCpuList, parseXlInfo, parseXlList, parseXlVcpuList } from "../../../lib/xen/mod.ts";
import { InputError } from "../../../lib/core/errors.ts";

Deno.test("xl list / info / vcpu-list parse", () => {
  const list = parseXlList(
    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n" +
      "Domain-0                                     0  1024     2     r-----      12.3\n" +
      "ubu-pv0                                      3  8192     8     -b----       4.0\n",
  );
  assert.deepEqual(list[1], { name: "ubu-pv0", id: 3, memMiB: 8192, vcpus: 8, state: "-b----", timeS: 4 });
  assert.equal(list.length, 2);
  const info = parseXlInfo(
    "host                   : dom0\nnr_cpus                : 2\nnr_nodes               : 2\n" +
      "total_memory           : 2047\nfree_memory            : 900\nxen_major              : 4\n" +
      "xen_minor              : 17\nxen_extra              : .7\nxen_commandline        : dom0_mem=1024M\n" +
      "                         console=com1\n",
  );
  assert.equal(info.xenVersion, "4.17.7");
  assert.equal(info.nrNodes, 2);
  assert.equal(info.freeMemoryMiB, 900);
  assert.equal(info.raw.xen_commandline, "dom0_mem=1024M console=com1");
  const vcpus = parseXlVcpuList(
    "Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)\n" +
      "Domain-0                             0     0    0   r--      10.4  0 / all\n" +
      "ubu-pv0                              3     1    -   --p       0.0  all / all\n",
  );
  assert.deepEqual(vcpus.map((v) => [v.vcpu, v.cpu, v.hard, v.soft]), [[0, 0, "0", "all"], [
    1,
    undefined,
    "all",
    "all",
  ]]);
});

Deno.test("cpu lists: parse, format, bad input", () => {
  assert.deepEqual(parseCpuList("0-3,6"), [0, 1, 2, 3, 6]);
  assert.equal(formatCpuList([6, 0, 1, 2, 3, 9]), "0-3,6,9");
  assert.deepEqual(parseCpuList("all", "cpus", 3), [0, 1, 2]);
  for (const bad of ["", "1-", "a", "3-1"]) {
    assert.throws(() => parseCpuList(bad, "--cpus"), (e) => e instanceof InputError && e.field === "--cpus");
  }
});
