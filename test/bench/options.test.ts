// Command-line flags → benchmark options, and which workloads a selection picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { catalog, selectWorkloads } from '../../lib/bench/catalog.ts';
import { optionsFromFlags } from '../../lib/bench/cli.ts';
import { DEFAULTS, parseSize, sizeLabel } from '../../lib/bench/options.ts';

function flags(...argv: string[]) {
  const options = {
    endpoint: { type: 'string' },
    compare: { type: 'string', multiple: true },
    baseline: { type: 'string' },
    quick: { type: 'boolean' },
    duration: { type: 'string' },
    'server-pid': { type: 'string', multiple: true },
    'durability-label': { type: 'string', multiple: true },
    'large-size': { type: 'string' },
    workloads: { type: 'string' },
    'virtual-style': { type: 'boolean' },
    'path-style': { type: 'boolean' },
  } as const;
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  return optionsFromFlags(values, positionals, {});
}

test('without flags the bench measures the local default port with the default keys', () => {
  const o = flags();
  assert.deepEqual(o.endpoints, [{ name: '127.0.0.1:9010', url: 'http://127.0.0.1:9010' }]);
  assert.equal(o.baseline, '127.0.0.1:9010');
  assert.equal(o.accessKey, DEFAULTS.accessKey);
  assert.equal(o.pathStyle, true);
  assert.equal(o.durationSec, 10);
});

test('--compare takes several named URLs, pids and labels pair with endpoints in order, --baseline picks by name', () => {
  const o = flags(
    '--endpoint',
    'bleep=http://127.0.0.1:9310/',
    '--compare',
    'ceiling=http://127.0.0.1:9100',
    'http://localhost:9000',
    '--server-pid',
    '123',
    '--durability-label',
    'full',
    '--durability-label',
    'fsync',
    '--baseline',
    'ceiling',
  );
  assert.deepEqual(o.endpoints, [
    { name: 'bleep', url: 'http://127.0.0.1:9310', serverPid: 123, durabilityLabel: 'full' },
    { name: 'ceiling', url: 'http://127.0.0.1:9100', durabilityLabel: 'fsync' },
    { name: 'localhost:9000', url: 'http://localhost:9000' },
  ]);
  assert.equal(o.baseline, 'ceiling');
});

test("--server-pid A+B+C counts the CPU of all of a cluster's nodes and samples RSS from the first", () => {
  const o = flags('--endpoint', 'leader=http://127.0.0.1:9310', '--server-pid', '11+12+13');
  assert.deepEqual(o.endpoints, [
    { name: 'leader', url: 'http://127.0.0.1:9310', serverPid: 11, cpuPids: [11, 12, 13] },
  ]);
  assert.throws(() => flags('--server-pid', '11+x'), /--server-pid "x"/);
});

test('--quick shrinks the run but explicit flags still win', () => {
  const o = flags('--quick', '--duration', '2');
  assert.equal(o.quick, true);
  assert.equal(o.durationSec, 2);
  assert.equal(o.largeSize, 16 << 20);
  assert.deepEqual(o.concurrencies, [16]);
  assert.equal(flags('--quick', '--large-size', '32MiB').largeSize, 32 << 20);
});

test('bad flags are refused with a sentence naming the value', () => {
  assert.throws(() => flags('--endpoint', 'ftp://x'), /"ftp:\/\/x" is not an http or https URL/);
  assert.throws(() => flags('--duration', '0'), /--duration "0" must be a number from 0.1 to 600/);
  assert.throws(() => flags('--baseline', 'nope'), /--baseline "nope" is none of the endpoints/);
  assert.throws(() => flags('--path-style', '--virtual-style'), /exclude each other/);
  assert.throws(() => flags('stray'), /unexpected argument "stray"/);
  assert.throws(() => flags('--server-pid', '1', '--server-pid', '2'), /2 --server-pid flags for 1 endpoints/);
});

test('sizes parse in binary units and label back the same way', () => {
  assert.equal(parseSize('64KiB'), 65536);
  assert.equal(parseSize('256m'), 256 << 20);
  assert.equal(parseSize('1000'), 1000);
  assert.throws(() => parseSize('lots'), /"lots" is not a size/);
  assert.deepEqual([1024, 256 << 20, 1500].map(sizeLabel), ['1KiB', '256MiB', '1500B']);
});

test('the default catalog has every issue #7 workload, and selectors pick by name, prefix or group', () => {
  const all = catalog({ ...DEFAULTS, endpoints: [], baseline: '' });
  const names = all.map((w) => w.name);
  for (const n of [
    'put-1KiB-c1',
    'get-1KiB-c16',
    'head-64KiB-c64',
    'put-256MiB',
    'put-256MiB-signed',
    'get-256MiB',
    'multipart-256MiB-p4',
    'list-v2-20000',
    'mixed-70-30-1KiB-c16',
  ]) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(names.length, 2 * 3 * 3 + 6);
  assert.deepEqual(
    selectWorkloads(all, ['get-64KiB']).map((w) => w.name),
    ['get-64KiB-c1', 'get-64KiB-c16', 'get-64KiB-c64'],
  );
  assert.deepEqual(
    selectWorkloads(all, ['large', 'list-v2-20000']).map((w) => w.name),
    ['put-256MiB', 'put-256MiB-signed', 'get-256MiB', 'list-v2-20000'],
  );
  assert.throws(() => selectWorkloads(all, ['nope']), /no workload matches "nope"/);
});
