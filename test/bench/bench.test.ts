// The benchmark end to end: a tiny configuration against a real BleepStore on port 0, the
// report written to disk, and the same run compared against a second endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sax from 'sax';
import { runBench } from '../../lib/bench/bench.ts';
import { writeReport } from '../../lib/bench/files.ts';
import { DEFAULTS, type BenchOptions } from '../../lib/bench/options.ts';
import type { BenchReport } from '../../lib/bench/report.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1 << 20;

function tiny(endpoints: BenchOptions['endpoints']): BenchOptions {
  return {
    ...DEFAULTS,
    endpoints,
    baseline: endpoints[0]!.name,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
    durationSec: 0.4,
    smallSizes: [1024],
    concurrencies: [4],
    largeSize: 6 * MiB,
    partSize: 5 * MiB,
    listKeys: 250,
    listPageSize: 100,
    poolSize: 16,
    seedConcurrency: 16,
    mixedConcurrency: 4,
    workloads: ['put-1KiB', 'get-1KiB', 'head-1KiB', 'put-6MiB', 'get-6MiB', 'multipart', 'list', 'mixed'],
  };
}

function wellFormedXml(text: string): string {
  const parser = sax.parser(true);
  let root = '';
  parser.onopentag = (t) => void (root ||= t.name);
  parser.write(text).close(); // throws on the first well-formedness error
  return root;
}

describe('bleepstore bench', () => {
  let srv: TestServer;
  let out: string;
  let report: BenchReport;
  before(async () => {
    srv = await startServer();
    out = await mkdtemp(path.join(tmpdir(), 'bench-out-'));
    report = await runBench(
      tiny([{ name: 'bleepstore', url: srv.url, durabilityLabel: 'full', serverPid: process.pid }]),
    );
  });
  after(async () => {
    await srv.stop();
    await rm(out, { recursive: true, force: true });
  });

  test('the report names the machine, the versions, the durability and every selected workload', () => {
    assert.equal(report.tool, 'bleepstore bench');
    assert.match(report.version, /^\d+\.\d+\.\d+/);
    assert.equal(report.machine.node, process.version);
    assert.ok(report.machine.cores >= 1 && report.machine.memoryBytes > 0 && report.machine.cpu);
    const [ep] = report.endpoints;
    assert.equal(ep?.server, 'BleepStore');
    assert.ok(['full', 'normal', 'off'].includes(ep!.durability));
    assert.deepEqual(
      ep!.results.map((r) => r.workload),
      [
        'put-1KiB-c4',
        'get-1KiB-c4',
        'head-1KiB-c4',
        'put-6MiB',
        'put-6MiB-signed',
        'get-6MiB',
        'multipart-6MiB-p4',
        'list-v2-250-seed',
        'list-v2-250',
        'mixed-70-30-1KiB-c4',
      ],
    );
    for (const r of ep!.results) {
      assert.ok(['ok', 'unsupported', 'error'].includes(r.status), r.workload);
      for (const k of ['p50', 'p90', 'p99', 'max'] as const) assert.equal(typeof r.latencyMs[k], 'number');
    }
  });

  test('PUT and GET workloads complete operations with no errors and plausible numbers', () => {
    const rows = report.endpoints[0]!.results;
    for (const name of [
      'put-1KiB-c4',
      'get-1KiB-c4',
      'head-1KiB-c4',
      'put-6MiB',
      'put-6MiB-signed',
      'get-6MiB',
      'list-v2-250',
      'mixed-70-30-1KiB-c4',
    ]) {
      const r = rows.find((x) => x.workload === name)!;
      assert.equal(r.status, 'ok', `${name}: ${r.message}`);
      assert.equal(r.errors, 0, `${name}: ${JSON.stringify(r.errorCounts)}`);
      assert.ok(r.ops > 0 && r.opsPerSec > 0, name);
      assert.ok(
        r.latencyMs.p50 > 0 && r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max * 1.01,
        name,
      );
    }
    const get = rows.find((x) => x.workload === 'get-6MiB')!;
    assert.equal(get.bytes, get.ops * 6 * MiB);
    assert.ok(rows.find((x) => x.workload === 'list-v2-250')!.seedSeconds! > 0);
  });

  test('small-object workloads are driven by the raw client and report time to first byte, p99.9 and client CPU', () => {
    const rows = report.endpoints[0]!.results;
    for (const name of ['put-1KiB-c4', 'get-1KiB-c4', 'head-1KiB-c4', 'mixed-70-30-1KiB-c4']) {
      const r = rows.find((x) => x.workload === name)!;
      assert.equal(r.client, 'raw', name);
      assert.ok(
        r.ttfbMs && r.ttfbMs.count === r.ops && r.ttfbMs.p50 > 0 && r.ttfbMs.p50 <= r.latencyMs.p50 * 1.01,
        name,
      );
      assert.ok(r.latencyMs.p999 >= r.latencyMs.p99, name);
      assert.ok(r.clientCpuUsPerOp! > 0, name);
    }
    const large = rows.find((x) => x.workload === 'get-6MiB')!;
    assert.equal(large.client, 'node:http');
    assert.equal(large.ttfbMs, undefined);
  });

  test('multipart reports a row without stopping the run, with no errors when it is supported', () => {
    const r = report.endpoints[0]!.results.find((x) => x.workload === 'multipart-6MiB-p4')!;
    if (r.status === 'ok') assert.equal(r.errors, 0, JSON.stringify(r.errorCounts));
    else assert.ok(r.message, 'a row that is not ok says why');
  });

  test('server RSS is sampled when a pid is given', () => {
    assert.ok(report.endpoints[0]!.maxRssBytes! > 1 << 20);
  });

  test('the bench leaves no bucket behind', async () => {
    const { ListBucketsCommand } = await import('@aws-sdk/client-s3');
    const { Buckets = [] } = await srv.client().send(new ListBucketsCommand({}));
    assert.deepEqual(
      Buckets.filter((b) => b.Name?.startsWith('bench-')),
      [],
    );
  });

  test('the JSON, text, Markdown and SVG reports are written and the SVG is well-formed XML', async () => {
    const files = await writeReport(report, out);
    const json = JSON.parse(await readFile(files.json, 'utf8')) as BenchReport;
    assert.deepEqual(
      json.endpoints[0]!.results.map((r) => r.workload),
      report.endpoints[0]!.results.map((r) => r.workload),
    );
    assert.match(await readFile(files.text, 'utf8'), /put-1KiB-c4 +[\d,.]+/);
    assert.match(await readFile(files.markdown, 'utf8'), /\| put-1KiB-c4 \|/);
    const svg = await readFile(files.svg, 'utf8');
    assert.equal(wellFormedXml(svg), 'svg');
    assert.match(svg, /put-1KiB-c4/);
  });

  test('comparing two endpoints gives ratios against the baseline for the workloads both ran', async () => {
    const o = tiny([
      { name: 'a', url: srv.url },
      { name: 'b', url: srv.url },
    ]);
    o.workloads = ['put-1KiB', 'head-1KiB'];
    o.durationSec = 0.3;
    o.baseline = 'b';
    const r = await runBench(o);
    assert.equal(r.baseline, 'b');
    assert.deepEqual(
      r.ratios.map((x) => [x.endpoint, x.workload]),
      [
        ['a', 'put-1KiB-c4'],
        ['a', 'head-1KiB-c4'],
      ],
    );
    for (const x of r.ratios) assert.ok(x.throughput > 0 && Number.isFinite(x.throughput) && x.p99 > 0);
    assert.equal(wellFormedXml((await import('../../lib/bench/svg.ts')).renderSvg(r)), 'svg');
  });

  test('an endpoint nobody listens on becomes error rows, not an exception', async () => {
    const r = await runBench({ ...tiny([{ name: 'gone', url: 'http://127.0.0.1:1' }]), workloads: ['put-1KiB'] });
    const [row] = r.endpoints[0]!.results;
    assert.equal(row?.status, 'error');
    assert.match(r.endpoints[0]!.failure ?? '', /cannot reach/);
  });
});
