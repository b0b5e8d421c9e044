import assert from "node:assert/strict";
import { ConsoleWatcher, describeJoin, joinStatus, parseDmesg } from "../../../lib/fragvisor/mod.ts";

const NAMES = ["echo5", "echo4", "echo0", "echo1"];

Deno.test("dmesg: Ready and joined lines (timestamps, levels, padding) complete the join", () => {
  const log = (nid: number) =>
    [
      "[    3.000000] e1000e: eth0 NIC Link is Up",
      "<6>[   12.345678] popcorn: Ready on InfiniBand RDMA",
      ...[0, 1, 2, 3].filter((p) => p !== nid).map((p) => `[   12.4${p}0000] popcorn:    ${p} joined, x86_64`),
    ].join("\n");
  const states = [0, 1, 2, 3].map((nid) => parseDmesg(log(nid)));
  assert.deepEqual(states[2], { ready: true, joined: [0, 1, 3], ipNotListed: false, failures: [] });
  const s = joinStatus(NAMES, states);
  assert.equal(s.complete, true);
  assert.deepEqual(s.pending, []);
});

Deno.test("dmesg: a peer that never joins, a missing IP and Unable-to lines are named", () => {
  const states = [
    parseDmesg("popcorn: Ready on InfiniBand RDMA\npopcorn:    1 joined, x86_64\npopcorn:    2 joined, x86_64"),
    parseDmesg("popcorn: Ready on InfiniBand RDMA\npopcorn:    0 joined, x86_64\npopcorn:    2 joined, x86_64"),
    parseDmesg("popcorn: Ready on InfiniBand RDMA\npopcorn:    0 joined, x86_64\npopcorn:    1 joined, x86_64"),
    parseDmesg(
      "popcorn: My IP is not listed in the node configuration\n" +
        "popcorn: Unable to resolve address, 10.4.6.15 - -110",
    ),
  ];
  assert.deepEqual(states[3].failures, [{ step: "resolve address", ip: "10.4.6.15", detail: "-110" }]);
  const s = joinStatus(NAMES, states);
  assert.equal(s.complete, false);
  assert.deepEqual(s.pending, NAMES);
  assert.deepEqual(s.nodes[0].missingPeers, ["echo1"]);
  const text = describeJoin(s);
  assert.match(text, /echo5 \(nid 0\): ready; peers not joined: echo1/);
  assert.match(text, /echo1 \(nid 3\): not ready; peers not joined: echo5, echo4, echo0; its IP is not listed/);
  assert.match(text, /Unable to resolve address, 10.4.6.15 - -110/);
  assert.equal(joinStatus(NAMES, [undefined, ...states.slice(1)]).nodes[0].ready, false);
});

Deno.test("console: lkvm init time, green Initstrap, ALL DONE, Boot took; split chunks and a stalled partial line", () => {
  let t = 1000;
  const w = new ConsoleWatcher(() => t);
  w.push("Info: booting\r\npophype: lkvm init [time] = 1523 ms [[[1 s]]]\r\n");
  t = 3000;
  w.push("\x1b[32mInitstrap done (dont run bash here) !\x1b[0m\nBoot took 101.37");
  assert.equal(w.state.bootSeconds, undefined);
  w.push(" seconds\n| auto_setup_pophype.sh ALL");
  assert.deepEqual(w.missing(), ["allDone"]);
  t = 5000;
  w.push(" DONE |");
  assert.equal(w.has(["lkvmInit", "initstrap", "allDone"]), true);
  assert.equal(w.state.lkvmInitMs, 1523);
  assert.equal(w.state.bootSeconds, 101.37);
  assert.deepEqual(w.state.seenAtMs, { lkvmInit: 0, initstrap: 2000, allDone: 4000 });
  assert.match(w.text(), /^Initstrap done \(dont run bash here\) !$/m);
});
