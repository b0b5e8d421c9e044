import assert from "node:assert/strict";
import { FifoQueue, HeapQueue } from "../../../lib/hypersio/ready_queue.ts";
import { UnorderedMapOrder } from "../../../lib/hypersio/unordered_order.ts";
import { GlibcRandom } from "../../../lib/hypersio/glibc_rand.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

/** Compiles a C++ program into dir and returns its path. */
async function compile(dir: string, name: string, src: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}.cpp`, src);
  const out = await new Deno.Command("g++", { args: ["-O1", "-o", `${dir}/${name}`, `${dir}/${name}.cpp`] }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return `${dir}/${name}`;
}

async function run(bin: string, input: string, args: string[] = []): Promise<string[]> {
  const p = new Deno.Command(bin, { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  return new TextDecoder().decode((await p.output()).stdout).trim().split("\n").filter(Boolean);
}

const PQ_SRC = `#include <queue>
#include <cstdio>
struct E { unsigned long t; int id; };
struct C { bool operator()(const E& a, const E& b) const { return a.t > b.t; } };
int main() { std::priority_queue<E, std::vector<E>, C> q; char op; unsigned long t; int id;
  while (scanf(" %c %lu %d", &op, &t, &id) == 3) {
    if (op == 'p') q.push({t, id}); else if (!q.empty() && q.top().t <= t) { printf("%d\\n", q.top().id); q.pop(); } else printf("-1\\n"); } }`;

Deno.test("heap queue: a plain min-heap by time; FIFO queue only releases its head", () => {
  const h = new HeapQueue();
  for (const [t, id] of [[5, 1], [3, 2], [9, 3]]) h.push(t, id);
  assert.equal(h.popReady(2), -1);
  assert.deepEqual([h.popReady(10), h.popReady(10), h.popReady(10), h.popReady(10)], [2, 1, 3, -1]);
  const f = new FifoQueue();
  f.push(5, 1), f.push(3, 2);
  assert.equal(f.popReady(4), -1); // head (t=5) not ready, even though the second is
  assert.deepEqual([f.popReady(5), f.popReady(5)], [1, 2]);
});

Deno.test({
  name: "heap queue: same-time ties leave in libstdc++ std::priority_queue order (checked against g++)",
  ignore: skipIf(needCommand("g++")),
  async fn() {
    using d = tempDir();
    const bin = await compile(d.path, "pq", PQ_SRC);
    const rng = new GlibcRandom(7);
    const ops: string[] = [];
    const mine: number[] = [];
    const h = new HeapQueue();
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      if (rng.rand() % 3) {
        const t = now + (rng.rand() % 4); // many equal times
        ops.push(`p ${t} ${i}`);
        h.push(t, i);
      } else {
        now += rng.rand() % 2;
        ops.push(`o ${now} 0`);
        mine.push(h.popReady(now));
      }
    }
    const ref = (await run(bin, ops.join("\n") + "\n")).map(Number);
    assert.deepEqual(mine, ref);
  },
});

Deno.test({
  name: "unordered_map order: inserts and erases iterate like libstdc++'s, identity and custom hashes (g++)",
  ignore: skipIf(needCommand("g++")),
  async fn() {
    using d = tempDir();
    const bin = await compile(
      d.path,
      "um",
      `#include <unordered_map>
#include <cstdio>
#include <cstdint>
struct H { size_t operator()(uint64_t k) const { return (k << 16) | 7; } };
template <class M> void run(M& m) { char op; unsigned long k;
  while (scanf(" %c %lu", &op, &k) == 2) { if (op == 'i') m[k] = 1; else if (op == 'e') m.erase(k); else break; }
  for (auto& kv : m) printf("%lu\\n", (unsigned long)kv.first); }
int main(int argc, char**) { if (argc > 1) { std::unordered_map<uint64_t,int,H> m; run(m); } else { std::unordered_map<uint64_t,int> m; run(m); } }`,
    );
    const rng = new GlibcRandom(3);
    const shifted = (key: number, n: number) => {
      // ((key << 16) | 7) mod 2^64, then mod n, for keys below 2^37.
      const hi = Math.floor(key / 65536), lo = ((key % 65536) * 65536 + 7) % n;
      return ((hi % n) * (4294967296 % n) + lo) % n;
    };
    for (const custom of [false, true]) {
      for (const n of [1, 12, 13, 14, 200, 5000]) {
        const m = new UnorderedMapOrder<number>(custom ? shifted : undefined);
        const ops: string[] = [];
        const live: number[] = [];
        for (let i = 0; i < n; i++) {
          if (live.length && rng.rand() % 3 === 0) {
            const k = live.splice(rng.rand() % live.length, 1)[0];
            ops.push(`e ${k}`);
            m.delete(k);
          } else {
            const k = i % 2 ? rng.rand() % 65536 : rng.rand() * (custom ? 16 : 4096);
            ops.push(`i ${k}`);
            if (!m.has(k)) live.push(k);
            m.set(k, 1);
          }
        }
        const out = await run(custom ? `${bin}` : bin, ops.join("\n") + "\nq 0\n", custom ? ["x"] : []);
        assert.deepEqual([...m.entries()].map(([k]) => k), out.map(Number), `n=${n} custom=${custom}`);
      }
    }
  },
});
