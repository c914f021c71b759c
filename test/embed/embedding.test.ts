// BleepStore embedded as a test double: one options object, nothing on disk, no fixed port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConfigError, createBleepStore } from '../../lib/index.ts';

const INDEX = new URL('../../lib/index.ts', import.meta.url).href;
const run = promisify(execFile);

/** Runs fn with an empty temp dir as the working directory; returns what was left in it. */
async function inEmptyCwd(fn: () => Promise<void>): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-embed-cwd-'));
  const before = process.cwd();
  process.chdir(dir);
  try {
    await fn();
    return await readdir(dir);
  } finally {
    process.chdir(before);
    await rm(dir, { recursive: true, force: true });
  }
}

test('storage, port and logWrite given together all take effect (not a disk store on 9010 writing ./data)', async () => {
  const lines: string[] = [];
  const left = await inEmptyCwd(async () => {
    const store = await createBleepStore({
      storage: 'memory',
      server: { port: 0 },
      logging: { level: 'info' },
      logWrite: (l) => void lines.push(l),
    });
    const { port } = await store.listen();
    assert.notEqual(port, 9010);
    assert.equal(store.config.storage.backend, 'memory');
    assert.equal(store.config.metadata.sqlite.path, ':memory:');
    await store.close();
  });
  assert.deepEqual(left, [], 'nothing written to the working directory');
  assert.ok(
    lines.some((l) => JSON.parse(l).msg === 'listening'),
    'log lines went to logWrite',
  );
});

// In a child process: under `node --test` this file's results travel to the runner on this
// process's stdout, so replacing process.stdout.write here to watch for log lines swallowed
// the previous test's report (6 of 7 tests counted).
test('with no options an embedded store is memory-backed, on a free port, quiet, and writes nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-embed-cwd-'));
  try {
    const script = `
      import { createBleepStore } from ${JSON.stringify(INDEX)};
      const store = await createBleepStore();
      const { port } = await store.listen();
      const { storage, logging } = store.config;
      await store.close();
      process.stderr.write(JSON.stringify({ port, backend: storage.backend, level: logging.level }));
    `;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    const seen = JSON.parse(stderr);
    assert.ok(seen.port > 0 && seen.port !== 9010);
    assert.equal(seen.backend, 'memory');
    assert.equal(seen.level, 'warn');
    assert.equal(stdout, '', 'no log lines at info level by default');
    assert.deepEqual(await readdir(dir), [], 'nothing written to the working directory');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('buckets are pre-created, clientConfig fits the AWS SDK, reset empties the store and recreates them', async () => {
  await using store = await createBleepStore({ buckets: ['fixtures', 'uploads'] });
  await store.listen();
  const cfg = store.clientConfig();
  assert.deepEqual(Object.keys(cfg).sort(), ['credentials', 'endpoint', 'forcePathStyle', 'region']);
  const s3 = new S3Client(cfg);
  try {
    const names = async () => ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
    assert.deepEqual(await names(), ['fixtures', 'uploads']);
    await s3.send(new CreateBucketCommand({ Bucket: 'made-in-test' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fixtures', Key: 'big', Body: Buffer.alloc(200 * 1024, 1) }));
    await s3.send(new PutObjectCommand({ Bucket: 'fixtures', Key: 'small', Body: 'x' }));
    await store.reset();
    assert.deepEqual(await names(), ['fixtures', 'uploads']);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'fixtures', Key: 'big' })), { name: 'NoSuchKey' });
  } finally {
    s3.destroy();
  }
});

test('await using closes the store at the end of the scope', async () => {
  let url = '';
  {
    await using store = await createBleepStore();
    url = (await store.listen()).url;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  }
  await assert.rejects(fetch(`${url}/healthz`));
});

test('clientConfig before listen says to call listen first', async () => {
  await using store = await createBleepStore();
  assert.throws(() => store.clientConfig(), /listen\(\)/);
});

test('an unknown option is refused instead of being ignored', async () => {
  await assert.rejects(
    createBleepStore({ logwrite: () => {} } as never),
    (err: unknown) => err instanceof ConfigError && /"logwrite"/.test(err.message),
  );
});

test('a data_dir without storage gives a local store there (explicit disk use)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-embed-'));
  await using store = await createBleepStore({ data_dir: dir });
  assert.equal(store.config.storage.backend, 'local');
  assert.ok((await readdir(dir)).includes('metadata.db'));
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
