import assert from "node:assert/strict";
import { join } from "node:path";
import { playbookIndex } from "../../../lib/cli/playbook_index.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("play --list index: built by importing the playbooks, served from cache, rebuilt when a file changes", async () => {
  using dir = tempDir();
  const path = join(dir.path, "index.json");
  const first = await playbookIndex(path);
  assert.ok(first.some((e) => e.name === "quickstart" && /Host facts/.test(e.description)));
  const cached = JSON.parse(await Deno.readTextFile(path));
  assert.equal(cached.entries.length, first.length);

  // With matching stamps the cache is what is listed (proved by a marker entry only the cache has).
  cached.entries.push({ name: "only-in-cache", description: "x", path: "/nowhere.ts" });
  await Deno.writeTextFile(path, JSON.stringify(cached));
  assert.ok((await playbookIndex(path)).some((e) => e.name === "only-in-cache"));

  // A changed stamp (a playbook edited) makes it import the playbooks again.
  const anyFile = Object.keys(cached.stamps)[0];
  cached.stamps[anyFile] = "0:0";
  await Deno.writeTextFile(path, JSON.stringify(cached));
  const rebuilt = await playbookIndex(path);
  assert.ok(!rebuilt.some((e) => e.name === "only-in-cache"));
  assert.deepEqual(rebuilt.map((e) => e.name), first.map((e) => e.name));
});
