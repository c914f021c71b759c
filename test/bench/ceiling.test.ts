// `bleepstore bench --ceiling`: the real ../shared/bench/ceiling.mjs started on a free port,
// measured with the bench's raw client, then stopped with its directory removed. Skipped
// where the shared specs checkout (and so the ceiling) is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runBench } from '../../lib/bench/bench.ts';
import { startCeiling } from '../../lib/bench/ceiling.ts';
import { DEFAULTS } from '../../lib/bench/options.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../../shared/bench/ceiling.mjs');

test('the ceiling starts on a free port, is measured by the raw client with its CPU per op, and stops leaving nothing behind', {
  skip: existsSync(SCRIPT) ? false : `${SCRIPT} is not here`,
}, async () => {
  const ceiling = await startCeiling(SCRIPT);
  try {
    assert.ok(existsSync(ceiling.dir));
    const report = await runBench({
      ...DEFAULTS,
      endpoints: [{ name: 'ceiling', url: ceiling.url, serverPid: ceiling.pid }],
      baseline: 'ceiling',
      durationSec: 0.4,
      smallSizes: [1024],
      concurrencies: [4],
      poolSize: 8,
      seedConcurrency: 8,
      workloads: ['put-1KiB', 'get-1KiB'],
    });
    const rows = report.endpoints[0]!.results;
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.status, 'ok', `${r.workload}: ${r.message}`);
      assert.equal(r.errors, 0, JSON.stringify(r.errorCounts));
      assert.equal(r.client, 'raw');
      assert.ok(r.serverCpuUsPerOp !== undefined && r.serverCpuUsPerOp >= 0, `${r.workload} server CPU/op`);
    }
  } finally {
    await ceiling.stop();
  }
  assert.equal(existsSync(ceiling.dir), false, 'its directory is removed');
  assert.throws(() => process.kill(ceiling.pid, 0), { code: 'ESRCH' }, 'its process has ended');
});
