import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { messagingIps, parseMsgConfig, renderMsgConfig } from "../../../lib/fragvisor/mod.ts";

const inv = (nodes: string) => parseInventoryYaml(`defaults: { user: u }\nnodes:\n${nodes}`, "test");

Deno.test("config.h lists the IPs in node order (origin first, index = nid), as in the seed", () => {
  const i = inv(`
  - { name: echo4, host: echo4, vars: { msgIp: 10.4.6.14 } }
  - { name: echo5, host: echo5, roles: [origin], vars: { msgIp: 10.4.6.15 } }
  - { name: echo0, host: echo0, vars: { msgIp: 10.4.6.10 } }
  - { name: echo1, host: 10.4.6.11 }
`);
  const ips = messagingIps(i.nodes);
  assert.deepEqual(ips, ["10.4.6.15", "10.4.6.14", "10.4.6.10", "10.4.6.11"]);
  const text = renderMsgConfig(ips);
  assert.ok(text.includes(`const char *ip_addresses[] = { "10.4.6.15", "10.4.6.14", "10.4.6.10", "10.4.6.11" };`));
  assert.deepEqual(parseMsgConfig(text), ips);
  // 2- and 3-node configs are prefixes.
  assert.deepEqual(messagingIps(i.limit("echo5,echo4").nodes), ["10.4.6.15", "10.4.6.14"]);
});

Deno.test("bad inputs: host name without msgIp, bad msgIp, duplicate address, too many nodes", () => {
  assert.throws(() => messagingIps(inv(`  - { name: a, host: echo5.lab }\n`).nodes), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.field, `node "a" host`);
    assert.match(e.message, /IPv4 address for the messaging layer \(set vars.msgIp\)/);
    return true;
  });
  assert.throws(
    () => messagingIps(inv(`  - { name: a, host: h, vars: { msgIp: 10.4.6.300 } }\n`).nodes),
    /node "a" vars.msgIp: expected an IPv4 address.*"10.4.6.300"/,
  );
  assert.throws(
    () =>
      messagingIps(inv(`  - { name: a, host: 10.0.0.1 }\n  - { name: b, host: h, vars: { msgIp: 10.0.0.1 } }\n`).nodes),
    /node "b" vars.msgIp: expected an address not used by node "a"/,
  );
  const ten = Array.from({ length: 10 }, (_, k) => `  - { name: n${k}, host: 10.0.0.${k + 1} }`).join("\n");
  assert.throws(() => messagingIps(inv(ten + "\n").nodes), /inventory: expected at most 9 nodes/);
  assert.throws(() => parseMsgConfig("int x;"), /config.h: expected a `const char \*ip_addresses/);
});
