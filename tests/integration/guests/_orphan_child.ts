/** Child process of guest_orphan_test: starts a guest, prints its pid and runtime dir, then waits to be killed. */
import { startGuest } from "../../../lib/lab/guests_mod.ts";

const g = await startGuest({ name: "orphan", accel: "tcg", waitUntil: "started" });
console.log(JSON.stringify({ pid: g.pid, dir: g.dir }));
await new Promise(() => {}); // killed by the test
