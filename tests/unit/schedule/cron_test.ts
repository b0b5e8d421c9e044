import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { dueTimes, parseCron } from "../../../lib/schedule/cron.ts";

Deno.test("cron: next due time honours the time zone explicitly", () => {
  const paris = parseCron("0 3 * * *", "Europe/Paris");
  const utc = parseCron("0 3 * * *", "UTC");
  const from = Date.parse("2026-01-10T12:00:00Z");
  assert.equal(new Date(paris.nextAfter(from)!).toISOString(), "2026-01-11T02:00:00.000Z");
  assert.equal(new Date(utc.nextAfter(from)!).toISOString(), "2026-01-11T03:00:00.000Z");
  // Summer time: Paris is UTC+2.
  assert.equal(
    new Date(paris.nextAfter(Date.parse("2026-07-10T12:00:00Z"))!).toISOString(),
    "2026-07-11T01:00:00.000Z",
  );
});

Deno.test("cron: six fields include seconds; dueTimes is inclusive and bounded", () => {
  const s = parseCron("*/2 * * * * *", "UTC");
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const { times, more } = dueTimes(s, t0, t0 + 10_000);
  assert.equal(times.length, 6);
  assert.equal(times[0], t0);
  assert.equal(times[5], t0 + 10_000);
  assert.equal(more, false);
  const capped = dueTimes(s, t0, t0 + 3_600_000, 100);
  assert.equal(capped.times.length, 100);
  assert.equal(capped.more, true);
});

Deno.test("cron: malformed expressions and zones name the flag and the expectation", () => {
  const bad = ["", "* * *", "61 * * * *", "* 25 * * *", "abc def ghi jkl mno", "* * * * * * * *", "0 0 31 2 *"];
  for (const expr of bad) {
    assert.throws(() => parseCron(expr, "UTC"), (e: unknown) => {
      assert.ok(e instanceof InputError, `${expr}: ${e}`);
      assert.equal(e.field, "--cron");
      assert.match(e.message, /--cron: expected/);
      return true;
    });
  }
  assert.throws(() => parseCron("* * * * *", "Mars/Olympus"), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.field, "--tz");
    assert.match(e.message, /IANA time zone/);
    return true;
  });
});
