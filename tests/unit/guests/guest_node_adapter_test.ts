import assert from "node:assert/strict";
import { guestNodeSpec, nodeRunnerOf, type RunsCommands } from "../../../lib/lab/guest_node_adapter.ts";
import { localNodeRunner } from "../../../lib/lab/guest_node_local.ts";

/** A node with the cluster layer's run shape, running real local commands. */
function clusterShapedNode(name: string): RunsCommands & { seen: Record<string, unknown>[] } {
  const local = localNodeRunner(name);
  const seen: Record<string, unknown>[] = [];
  return {
    name,
    seen,
    async run(argv, options) {
      seen.push(options);
      const r = await local.run([...argv], { stdin: options.stdin, timeoutMs: options.timeout });
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

Deno.test("node adapter: a cluster-shaped node runs argv with stdin, returns non-zero exits, never streams", async () => {
  const node = clusterShapedNode("n7");
  const runner = nodeRunnerOf(node);
  assert.equal(runner.name, "n7");
  assert.deepEqual(await runner.run(["echo", "hi"]), { code: 0, stdout: "hi\n", stderr: "" });
  assert.equal((await runner.run(["sh", "-c", "echo err >&2; exit 3"])).code, 3);
  const cat = await runner.run(["cat"], { stdin: new TextEncoder().encode("through stdin"), timeoutMs: 5000 });
  assert.equal(cat.stdout, "through stdin");
  assert.ok(node.seen.every((o) => o.check === false && o.stream === false));
  assert.equal(node.seen[2].timeout, 5000);
});

Deno.test("node adapter: a guest endpoint becomes an inventory node spec tagged guest", () => {
  const spec = guestNodeSpec(
    {
      name: "g1",
      host: "127.0.0.1",
      port: 40022,
      user: "root",
      key: "/k/id_ed25519",
      knownHosts: "/run/g1/known_hosts",
      hostKey: "ssh-ed25519 AAAA",
    },
    3,
    ["worker"],
  );
  assert.deepEqual(spec, {
    name: "g1",
    host: "127.0.0.1",
    port: 40022,
    user: "root",
    key: "/k/id_ed25519",
    knownHosts: "/run/g1/known_hosts",
    index: 3,
    roles: ["worker"],
    tags: ["guest"],
    vars: { hostKey: "ssh-ed25519 AAAA" },
    local: false,
  });
});
