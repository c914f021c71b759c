// Safe start: the default key is called out where it matters, keys can be set without a
// config file, a deleted bootstrap key can stay deleted, and a terminal gets a banner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { createBleepStore } from '../../lib/index.ts';
import { runCli } from '../../lib/cli.ts';
import { defaultKeyLive, isLoopback } from '../../lib/banner.ts';
import { spawnServer } from '../helpers/process.ts';

test('the default key counts as exposed on a non-loopback address only while it is live and unchanged', () => {
  for (const a of ['0.0.0.0', '::', '10.1.2.3', '192.168.1.5']) assert.equal(isLoopback(a), false, a);
  for (const a of ['127.0.0.1', '127.8.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  assert.equal(
    defaultKeyLive(() => ({ secretKey: 'bleepstore-secret', active: true })),
    true,
  );
  assert.equal(
    defaultKeyLive(() => ({ secretKey: 'rotated', active: true })),
    false,
  );
  assert.equal(
    defaultKeyLive(() => undefined),
    false,
  );
});

test('--access-key and BLEEPSTORE_SECRET_KEY_FILE set the bootstrap key; the default key is not seeded', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-keys-'));
  const secretFile = path.join(dir, 'secret');
  await writeFile(secretFile, 'file-secret-0123456789\n');
  process.env.BLEEPSTORE_SECRET_KEY_FILE = secretFile;
  const srv = await spawnServer(path.join(dir, 'data'), ['--access-key', 'opskey']).finally(
    () => delete process.env.BLEEPSTORE_SECRET_KEY_FILE,
  );
  const ok = new S3Client({
    endpoint: srv.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'opskey', secretAccessKey: 'file-secret-0123456789' },
  });
  const old = new S3Client({
    endpoint: srv.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bleepstore', secretAccessKey: 'bleepstore-secret' },
  });
  try {
    await ok.send(new ListBucketsCommand({}));
    await assert.rejects(old.send(new ListBucketsCommand({})), { name: 'InvalidAccessKeyId' });
    assert.ok(!JSON.stringify(srv.logs).includes('file-secret'), 'the secret is never logged');
  } finally {
    ok.destroy();
    old.destroy();
    srv.proc.kill('SIGTERM');
    await srv.exited;
    await rm(dir, { recursive: true, force: true });
  }
});

test('auth.seed false: a deleted bootstrap key stays deleted across restarts (seed true brings it back)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-seed-'));
  const open = (seed: boolean) => createBleepStore({ data_dir: dir, auth: { seed } });
  {
    await using store = await open(false);
    assert.ok(
      store.credentials.list().some((k) => k.accessKeyId === 'bleepstore'),
      'an empty database still gets the key',
    );
    store.credentials.create({ displayName: 'admin' });
    store.credentials.delete('bleepstore');
  }
  {
    await using store = await open(false);
    assert.ok(!store.credentials.list().some((k) => k.accessKeyId === 'bleepstore'));
  }
  {
    await using store = await open(true);
    assert.ok(store.credentials.list().some((k) => k.accessKeyId === 'bleepstore'));
  }
  await rm(dir, { recursive: true, force: true });
});

test('on a terminal the CLI shows a banner with the S3 URL, /docs and aws/rclone snippets', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-banner-'));
  let banner = '';
  const stops: Array<() => void> = [];
  const exited = new Promise<number>((resolve) => {
    void runCli(['--port', '0', '--data-dir', dir, '--log-level', 'silent'], {
      exit: resolve,
      onSignal: (_s, fn) => void stops.push(fn),
      banner: (t) => (banner = t),
    });
  });
  for (let i = 0; i < 200 && !banner; i++) await new Promise((r) => setTimeout(r, 25));
  const url = /S3 at (http:\/\/\S+)/.exec(banner)?.[1];
  assert.ok(url, banner);
  assert.match(banner, new RegExp(`${url}/docs`));
  assert.match(banner, /aws configure set aws_access_key_id bleepstore/);
  assert.match(banner, /rclone config create bleepstore s3 .*force_path_style true/);
  assert.match(banner, /well-known default credentials/);
  stops[0]!();
  assert.equal(await exited, 0);
  await rm(dir, { recursive: true, force: true });
});
