import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHealthChecks } from '../../lib/ops/health.ts';
import { createLogger } from '../../lib/ops/log.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { version } from '../../lib/version.ts';
import { jsonLines, waitFor } from './wait.ts';

/** Makes the temp dir unusable even for root: a file where the directory was. */
async function breakStorage(s: TestServer): Promise<() => Promise<void>> {
  const tmp = path.join(s.store.config.storage.local.root_dir, '.tmp');
  await rm(tmp, { recursive: true, force: true });
  await writeFile(tmp, 'not a directory');
  return async () => {
    await rm(tmp, { force: true });
    await mkdir(tmp);
  };
}

test('/health reports each check as JSON, /healthz and /readyz answer 200 with an empty body', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());

  const health = await fetch(`${s.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.headers.get('content-type'), 'application/json');
  const body = (await health.json()) as {
    status: string;
    checks: Record<string, { status: string; latency_ms: number }>;
  };
  assert.equal(body.status, 'ok');
  assert.deepEqual(Object.keys(body.checks).sort(), ['disk', 'metadata', 'storage']);
  for (const c of Object.values(body.checks)) {
    assert.equal(c.status, 'ok');
    assert.equal(typeof c.latency_ms, 'number');
  }

  for (const p of ['/healthz', '/readyz']) {
    const res = await fetch(`${s.url}${p}`);
    assert.equal(res.status, 200, p);
    assert.equal(await res.text(), '', p);
  }
  const head = await fetch(`${s.url}/health`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('/readyz answers 503 while the data directory cannot take a write, and 200 again once it can', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const repair = await breakStorage(s);

  assert.equal((await fetch(`${s.url}/readyz`)).status, 503);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'liveness does not probe dependencies');
  const health = await fetch(`${s.url}/health`);
  assert.equal(health.status, 503);
  const body = (await health.json()) as { status: string; checks: Record<string, { status: string; error?: string }> };
  assert.equal(body.status, 'degraded');
  assert.equal(body.checks.metadata?.status, 'ok');
  assert.equal(body.checks.storage?.status, 'error');
  assert.match(body.checks.storage?.error ?? '', /not writable \(ENOTDIR\)/);
  assert.ok(!JSON.stringify(body).includes(s.dataDir), 'the unauthenticated answer does not show server paths');
  const warned = await waitFor(
    () => jsonLines(s.logs).find((l) => l.msg === 'health check failed'),
    'the health warning',
  );
  assert.equal(warned.check, 'storage');

  await repair();
  assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
});

test('with health checks switched off, /healthz and /readyz are not ops endpoints and /health is the static answer', async (t) => {
  const s = await startServer({ observability: { health_check: false }, logging: { level: 'debug', format: 'json' } }); // debug: probes log there
  t.after(() => s.stop());
  await breakStorage(s);

  const health = await fetch(`${s.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', version, durability: 'full' });
  for (const p of ['/healthz', '/readyz']) {
    const res = await fetch(`${s.url}${p}`);
    assert.equal(res.status, 404, p);
    assert.match(await res.text(), /<Error><Code>NoSuchBucket<\/Code>/, `${p} went on to S3 routing`);
  }
  const ops = await waitFor(() => {
    const lines = jsonLines(s.logs).filter((l) => l.msg === 'request completed');
    return lines.length === 3 && lines.map((l) => l.op);
  }, 'three request log lines');
  assert.deepEqual(ops, ['/health', 'ListObjects', 'ListObjects']);
});

test('a signed GET /health is ListObjects of the bucket "health", not the ops endpoint', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const c = s.client();
  await c.send(new CreateBucketCommand({ Bucket: 'health' }));
  await c.send(new PutObjectCommand({ Bucket: 'health', Key: 'inside', Body: 'x' }));
  const listed = await c.send(new ListObjectsCommand({ Bucket: 'health' }));
  assert.deepEqual(
    listed.Contents?.map((o) => o.Key),
    ['inside'],
  );
  assert.equal(
    (await fetch(`${s.url}/health`)).headers.get('content-type'),
    'application/json',
    'unsigned, it is still the ops endpoint',
  );
});

test('a metadata store that cannot answer fails the check, and concurrent probes share one run', async () => {
  let queries = 0;
  const check = createHealthChecks({
    metadata: {
      ping: () => {
        queries++;
        throw new Error('database is locked');
      },
    },
    storage: { probe: () => Promise.reject(Object.assign(new Error('no such directory'), { code: 'ENOENT' })) },
    disk: { status: async () => ({ free_bytes: 1, min_free_bytes: 0, reserve_bytes: 0, low: false }) },
    log: createLogger({ level: 'silent', format: 'json' }),
  });
  const [a, b] = await Promise.all([check(), check()]);
  assert.equal(a, b);
  assert.equal(queries, 1);
  assert.equal(a.ok, false);
  assert.equal(a.checks.metadata.status, 'error');
  assert.equal(a.checks.metadata.error, 'metadata store not answering');
  assert.equal(a.checks.storage.error, 'storage not writable (ENOENT)');
  await check();
  assert.equal(queries, 2, 'a later probe runs again');
});
