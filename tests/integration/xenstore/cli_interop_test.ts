/** Debian's xenstore-utils (libxenstore 4.17) against the embedded xenstored, via XENSTORED_PATH. */
import assert from "node:assert/strict";
import { needCommand, skipIf } from "../../_helpers.ts";
import { startDaemon } from "./_daemon.ts";

const ignore = skipIf(needCommand("xenstore-write", "xenstore-utils"));

Deno.test(
  { name: "xenstore-utils: write, read, exists, list, ls, rm behave as against xenstored", ignore },
  async () => {
    await using f = await startDaemon();
    assert.equal((await f.tool("xenstore-write", "/vm/1/name", "guest one", "/vm/1/memory", "1024")).code, 0);
    assert.equal((await f.tool("xenstore-read", "/vm/1/name")).stdout, "guest one\n");
    assert.equal((await f.tool("xenstore-exists", "/vm/1/memory")).code, 0);
    assert.equal((await f.tool("xenstore-exists", "/vm/1/nope")).code, 1);
    assert.equal((await f.tool("xenstore-list", "/vm/1")).stdout, "name\nmemory\n");
    const ls = await f.tool("xenstore-ls", "/vm");
    assert.equal(ls.stdout, '1 = ""\n name = "guest one"\n memory = "1024"\n');
    const missing = await f.tool("xenstore-read", "/vm/2/name");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /couldn't read path \/vm\/2\/name/);
    assert.equal((await f.tool("xenstore-rm", "/vm/1/name")).code, 0);
    assert.equal((await f.tool("xenstore-list", "/vm/1")).stdout, "memory\n");
    assert.equal((await f.tool("xenstore-rm", "/vm")).code, 0);
    assert.equal((await f.tool("xenstore-exists", "/vm")).code, 1);
  },
);

Deno.test({ name: "xenstore-utils: chmod and ls -p show owner and per-domain permissions", ignore }, async () => {
  await using f = await startDaemon();
  await f.tool("xenstore-write", "/local/domain/5/numa/topo_change", "0");
  assert.equal((await f.tool("xenstore-chmod", "/local/domain/5/numa/topo_change", "b")).code, 0);
  const ls = await f.tool("xenstore-ls", "-p", "/local/domain/5/numa");
  assert.match(ls.stdout, /topo_change = "0" .*\(b0\)/);
  assert.equal((await f.tool("xenstore-chmod", "/local/domain/5/numa", "n0", "r5")).code, 0);
  assert.match((await f.tool("xenstore-ls", "-p", "/local/domain/5")).stdout, /numa = "" .*\(n0,r5\)/);
  assert.equal((await f.tool("xenstore-chmod", "/local/domain/5/nope", "b")).code, 1);
});

Deno.test({ name: "xenstore-watch: initial event, then the changed path", ignore }, async () => {
  await using f = await startDaemon();
  await f.tool("xenstore-write", "/w/a", "1");
  const watcher = new Deno.Command("xenstore-watch", {
    args: ["-n", "2", "/w"],
    env: { XENSTORED_PATH: f.socket },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    // Wait until the watch is registered before changing the node.
    for (let i = 0; i < 100 && f.daemon.stats().watches === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(f.daemon.stats().watches, 1);
    await f.tool("xenstore-write", "/w/a/b", "2");
    const out = await watcher.output();
    assert.equal(new TextDecoder().decode(out.stdout), "/w\n/w/a/b\n");
  } finally {
    try {
      watcher.kill();
    } catch { /* exited */ }
  }
});

Deno.test(
  { name: "xenstore-read: values up to the payload limit round-trip; oversized writes are refused", ignore },
  async () => {
    await using f = await startDaemon();
    const big = "x".repeat(4000);
    assert.equal((await f.tool("xenstore-write", "/big", big)).code, 0);
    assert.equal((await f.tool("xenstore-read", "/big")).stdout, big + "\n");
    const bad = await f.tool("xenstore-write", "/bad//path", "1");
    assert.equal(bad.code, 1);
  },
);
