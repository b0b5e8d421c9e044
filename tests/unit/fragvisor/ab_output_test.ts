import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  abCommand,
  busyFraction,
  parseAb,
  parseCpuLine,
  parseOpenLambda,
  parsePopcornStat,
} from "../../../lib/fragvisor/mod.ts";
import { needCommand, skipIf } from "../../_helpers.ts";

const AB = `This is ApacheBench, Version 2.3 <$Revision: 1903618 $>

Server Software:        nginx/1.10.3
Server Hostname:        10.4.4.222
Server Port:            80

Document Path:          /1KB
Document Length:        1024 bytes

Concurrency Level:      10
Time taken for tests:   2.147 seconds
Complete requests:      1000
Failed requests:        0
Total transferred:      1260000 bytes
HTML transferred:       1024000 bytes
Requests per second:    465.76 [#/sec] (mean)
Time per request:       21.470 [ms] (mean)
Time per request:       2.147 [ms] (mean, across all concurrent requests)
Transfer rate:          573.10 [Kbytes/sec] received
`;

Deno.test("ab report: the seed's figures", () => {
  assert.deepEqual(parseAb(AB), {
    timeTakenS: 2.147,
    completeRequests: 1000,
    failedRequests: 0,
    requestsPerSecond: 465.76,
    timePerRequestMs: 21.47,
    timePerRequestAllMs: 2.147,
    transferRateKBps: 573.1,
    documentLength: 1024,
  });
  assert.throws(() => parseAb(AB.replace(/^Transfer rate.*$/m, "")), /ab output: expected a line "Transfer rate"/);
  assert.throws(() => parseAb("apr_socket_connect(): Connection refused (111)"), /Time taken for tests/);
});

Deno.test({
  name: "ab report: real ab against a local HTTP server parses",
  ignore: skipIf(needCommand("ab", "apache2-utils")),
  async fn() {
    const server = createServer((_req, res) => res.end("x".repeat(1024)));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const cmd = abCommand(`http://127.0.0.1:${port}/1KB`, 50, 5);
      const out = await new Deno.Command("/bin/sh", { args: ["-c", cmd], stdout: "piped", stderr: "piped" }).output();
      const r = parseAb(new TextDecoder().decode(out.stdout));
      assert.equal(r.completeRequests, 50);
      assert.equal(r.failedRequests, 0);
      assert.equal(r.documentLength, 1024);
      assert.ok(r.requestsPerSecond > 0 && r.transferRateKBps > 0 && r.timeTakenS > 0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  },
});

Deno.test("cpu load, OpenLambda burst and popcorn_stat parsing", () => {
  const a = parseCpuLine("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4");
  const b = parseCpuLine("cpu  250 0 150 850 0 0 0 0 0 0");
  assert.deepEqual(a, { busy: 200, total: 1000 });
  assert.equal(busyFraction(a, b), 0.8);
  assert.throws(() => parseCpuLine("intr 1 2"), /\/proc\/stat: expected a line starting with `cpu `/);
  assert.deepEqual(parseOpenLambda("200 0.512\n200 0.730\n500 0.001\ntotal 733\n"), {
    codes: [200, 200, 500],
    latenciesS: [0.512, 0.73, 0.001],
    totalMs: 733,
  });
  assert.deepEqual(parsePopcornStat("remote_page_fault: 12\nmsg sent 300\n# header\n"), {
    remote_page_fault: 12,
    msg_sent: 300,
  });
});
