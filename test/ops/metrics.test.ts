import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { createBleepStore } from '../../lib/index.ts';
import { OPERATIONS } from '../../lib/s3/router.ts';
import { DURATION_BUCKETS, SIZE_BUCKETS } from '../../lib/ops/metrics.ts';
import { bodyBytes, startServer } from '../helpers/server.ts';
import { parseExposition, scrape, type Exposition } from './prom.ts';
import { jsonLines, waitFor } from './wait.ts';

const HTTP = [
  'bleepstore_http_requests_total',
  'bleepstore_http_request_duration_seconds',
  'bleepstore_http_request_size_bytes',
  'bleepstore_http_response_size_bytes',
];
const S3 = [
  'bleepstore_s3_operations_total',
  'bleepstore_objects_total',
  'bleepstore_buckets_total',
  'bleepstore_bytes_received_total',
  'bleepstore_bytes_sent_total',
];
const OPS_ROUTES = ['/health', '/healthz', '/readyz', '/openapi.json', '/docs'];

function leOf(e: Exposition, name: string): string[] {
  return [...new Set(e.samples.filter((s) => s.name === `${name}_bucket`).map((s) => s.labels.le!))];
}

test('the nine bleepstore metrics, labelled by operation, move by the right amounts after a mix of S3 calls', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const c = s.client();

  const before = await scrape(s.url);
  for (const name of [
    'bleepstore_http_requests_total',
    'bleepstore_s3_operations_total',
    'bleepstore_bytes_received_total',
    'bleepstore_bytes_sent_total',
  ]) {
    assert.equal(before.types.get(name), 'counter', name);
  }
  for (const name of [
    'bleepstore_http_request_duration_seconds',
    'bleepstore_http_request_size_bytes',
    'bleepstore_http_response_size_bytes',
  ]) {
    assert.equal(before.types.get(name), 'histogram', name);
  }
  assert.equal(before.types.get('bleepstore_objects_total'), 'gauge');
  assert.equal(before.types.get('bleepstore_buckets_total'), 'gauge');
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(before.types.has(name), `default metric ${name} is exported`);
  }
  // Every operation has a zero series from the start.
  for (const op of OPERATIONS)
    assert.ok(
      before.samples.some((x) => x.name === 'bleepstore_s3_operations_total' && x.labels.operation === op),
      op,
    );

  await c.send(new CreateBucketCommand({ Bucket: 'metrics-mix' }));
  await c.send(new PutObjectCommand({ Bucket: 'metrics-mix', Key: 'a/one', Body: Buffer.alloc(1000, 1) }));
  await c.send(new PutObjectCommand({ Bucket: 'metrics-mix', Key: 'a/two', Body: Buffer.alloc(3000, 2) }));
  assert.equal(
    (await bodyBytes((await c.send(new GetObjectCommand({ Bucket: 'metrics-mix', Key: 'a/one' }))).Body)).length,
    1000,
  );
  await c.send(new HeadObjectCommand({ Bucket: 'metrics-mix', Key: 'a/two' }));
  await assert.rejects(c.send(new GetObjectCommand({ Bucket: 'metrics-mix', Key: 'missing' })), { name: 'NoSuchKey' });
  await c.send(new ListObjectsV2Command({ Bucket: 'metrics-mix' }));
  await c.send(new DeleteObjectCommand({ Bucket: 'metrics-mix', Key: 'a/two' }));
  assert.equal((await fetch(`${s.url}/health`)).status, 200);
  await scrape(s.url); // a scrape between the two must not count itself

  const after = await scrape(s.url);
  const d = (name: string, labels?: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

  const op = (operation: string, status: string) => d('bleepstore_s3_operations_total', { operation, status });
  assert.equal(op('CreateBucket', 'success'), 1);
  assert.equal(op('PutObject', 'success'), 2);
  assert.equal(op('GetObject', 'success'), 1);
  assert.equal(op('GetObject', 'error'), 1);
  assert.equal(op('HeadObject', 'success'), 1);
  assert.equal(op('ListObjectsV2', 'success'), 1);
  assert.equal(op('DeleteObject', 'success'), 1);
  assert.equal(d('bleepstore_s3_operations_total'), 8, 'no other operation counted');

  assert.equal(d('bleepstore_http_requests_total', { method: 'PUT', path: 'PutObject', status: '200' }), 2);
  assert.equal(d('bleepstore_http_requests_total', { method: 'GET', path: 'GetObject', status: '404' }), 1);
  assert.equal(d('bleepstore_http_requests_total', { method: 'DELETE', path: 'DeleteObject', status: '204' }), 1);
  assert.equal(d('bleepstore_http_requests_total', { path: '/health', status: '200' }), 1, '/health is counted');
  assert.equal(after.value('bleepstore_http_requests_total', { path: '/metrics' }), 0, '/metrics is not counted');
  assert.equal(d('bleepstore_http_request_duration_seconds_count', { method: 'PUT', path: 'PutObject' }), 2);

  // Request bodies are counted decoded (the SDK sends aws-chunked with a CRC trailer).
  assert.equal(d('bleepstore_bytes_received_total'), 4000);
  assert.equal(d('bleepstore_http_request_size_bytes_sum', { path: 'PutObject' }), 4000);
  assert.equal(d('bleepstore_http_request_size_bytes_bucket', { path: 'PutObject', le: '256' }), 0);
  assert.equal(d('bleepstore_http_request_size_bytes_bucket', { path: 'PutObject', le: '1024' }), 1);
  assert.equal(d('bleepstore_http_request_size_bytes_bucket', { path: 'PutObject', le: '4096' }), 2);
  // What was sent adds up across operations, and the successful GET sent its 1000 bytes.
  const sentByRoute =
    after.samples
      .filter((x) => x.name === 'bleepstore_http_response_size_bytes_sum')
      .reduce((sum, x) => sum + x.value, 0) -
    before.samples
      .filter((x) => x.name === 'bleepstore_http_response_size_bytes_sum')
      .reduce((sum, x) => sum + x.value, 0);
  assert.equal(d('bleepstore_bytes_sent_total'), sentByRoute);
  assert.ok(d('bleepstore_http_response_size_bytes_sum', { path: 'GetObject' }) > 1000);

  // Labels: the spec's names, path normalised to the operation, never a raw path.
  for (const x of after.samples.filter((x) => x.name === 'bleepstore_http_requests_total')) {
    assert.deepEqual(Object.keys(x.labels).sort(), ['method', 'path', 'status']);
    assert.ok(
      [...OPERATIONS, ...OPS_ROUTES, 'Unknown'].includes(x.labels.path as never),
      `path label ${x.labels.path}`,
    );
    assert.match(x.labels.status!, /^\d{3}$/);
  }
  for (const name of [
    'bleepstore_http_request_duration_seconds',
    'bleepstore_http_request_size_bytes',
    'bleepstore_http_response_size_bytes',
  ]) {
    for (const x of after.samples.filter((x) => x.name === `${name}_count`))
      assert.deepEqual(Object.keys(x.labels).sort(), ['method', 'path']);
  }
  assert.ok(
    !after.samples.some((x) => Object.values(x.labels).some((v) => v.includes('metrics-mix'))),
    'no label carries a bucket name',
  );

  // The spec's histogram buckets.
  assert.deepEqual(leOf(after, 'bleepstore_http_request_duration_seconds'), [...DURATION_BUCKETS.map(String), '+Inf']);
  assert.deepEqual(DURATION_BUCKETS, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  assert.deepEqual(leOf(after, 'bleepstore_http_request_size_bytes'), [...SIZE_BUCKETS.map(String), '+Inf']);
  assert.deepEqual(leOf(after, 'bleepstore_http_response_size_bytes'), [...SIZE_BUCKETS.map(String), '+Inf']);
  assert.deepEqual(SIZE_BUCKETS, [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]);

  assert.equal(after.value('bleepstore_objects_total'), 1);
  assert.equal(after.value('bleepstore_buckets_total'), 1);
  for (const name of [...HTTP, ...S3]) assert.ok(after.types.has(name), name);
});

test('a streamed GET counts the bytes it actually wrote', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const c = s.client();
  const size = 700 * 1024 + 13; // several read chunks
  await c.send(new CreateBucketCommand({ Bucket: 'stream' }));
  await c.send(new PutObjectCommand({ Bucket: 'stream', Key: 'big', Body: Buffer.alloc(size, 7) }));

  const before = await scrape(s.url);
  const got = await c.send(new GetObjectCommand({ Bucket: 'stream', Key: 'big' }));
  assert.equal((await bodyBytes(got.Body)).length, size);
  const ranged = await c.send(new GetObjectCommand({ Bucket: 'stream', Key: 'big', Range: 'bytes=100-199' }));
  assert.equal((await bodyBytes(ranged.Body)).length, 100);
  await c.send(new HeadObjectCommand({ Bucket: 'stream', Key: 'big' }));
  const after = await scrape(s.url);

  assert.equal(
    after.value('bleepstore_bytes_sent_total') - before.value('bleepstore_bytes_sent_total'),
    size + 100,
    'HEAD sends no body',
  );
  const bucket = (le: string) =>
    after.value('bleepstore_http_response_size_bytes_bucket', { path: 'GetObject', le }) -
    before.value('bleepstore_http_response_size_bytes_bucket', { path: 'GetObject', le });
  assert.equal(bucket('256'), 1, 'the ranged GET');
  assert.equal(bucket('262144'), 1);
  assert.equal(bucket('1048576'), 2, 'the full GET');

  const lines = await waitFor(() => {
    const found = jsonLines(s.logs).filter((l) => l.msg === 'request completed' && l.op === 'GetObject');
    return found.length === 2 && found;
  }, 'two GetObject log lines');
  assert.deepEqual(
    lines.map((l) => l.bytes_out),
    [size, 100],
  );
});

test('object and bucket gauges are read from the metadata store, so they are right after a restart', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const c = s.client();
  for (const b of ['gauge-one', 'gauge-two']) await c.send(new CreateBucketCommand({ Bucket: b }));
  for (let i = 0; i < 5; i++)
    await c.send(new PutObjectCommand({ Bucket: i < 3 ? 'gauge-one' : 'gauge-two', Key: `k${i}`, Body: 'x' }));
  const first = await scrape(s.url);
  assert.equal(first.value('bleepstore_objects_total'), 5);
  assert.equal(first.value('bleepstore_buckets_total'), 2);
  await s.store.close();

  const again = await createBleepStore({
    overrides: { data_dir: s.dataDir, logging: { level: 'silent', format: 'json' } },
    logWrite: () => {},
  });
  t.after(() => again.close());
  const { url } = await again.listen(0, '127.0.0.1');
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const second = parseExposition(await res.text());
  assert.equal(second.value('bleepstore_objects_total'), 5);
  assert.equal(second.value('bleepstore_buckets_total'), 2);
  assert.equal(second.value('bleepstore_http_requests_total'), 0, 'counters start from zero');
});

test('with metrics switched off, /metrics is not an ops endpoint and requests are not counted', async (t) => {
  const s = await startServer({ observability: { metrics: false } });
  t.after(() => s.stop());
  const res = await fetch(`${s.url}/metrics`);
  // An unsigned GET /metrics is then ListObjects of a bucket named "metrics".
  assert.equal(res.status, 404);
  assert.match(await res.text(), /<Error><Code>NoSuchBucket<\/Code>/);
  const line = await waitFor(
    () => jsonLines(s.logs).find((l) => l.msg === 'request completed'),
    'the request log line',
  );
  assert.equal(line.op, 'ListObjects');
});

test('bleepstore_build_info names the version and durability, and free space is reported for the data volumes', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const e = await scrape(s.url);
  const info = e.samples.find((x) => x.name === 'bleepstore_build_info');
  assert.equal(info?.value, 1);
  assert.equal(info?.labels.version, (await import('../../lib/version.ts')).version);
  assert.equal(info?.labels.durability, 'full');
  const free = e.samples.filter((x) => x.name === 'bleepstore_disk_free_bytes');
  assert.deepEqual(
    free.map((f) => f.labels.volume).sort(),
    s.store.config.storage.backend === 'local' ? ['metadata', 'objects'] : ['metadata'],
  );
  for (const f of free) assert.ok(f.value > 0, f.labels.volume);
});
