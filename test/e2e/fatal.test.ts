// A failed fsync is fatal: the request fails, the store stops taking requests (any still
// arriving on open connections get 503) and tells its embedder; bin/ then exits and the
// next start recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBleepStore } from '../../lib/index.ts';
import { LOCAL_ONLY } from '../helpers/server.ts';
import { signed } from '../helpers/raw.ts';

test('a failed fsync answers 500, stops the listener and calls onFatal once', { skip: LOCAL_ONLY }, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-fatal-'));
  const fatal: Error[] = [];
  const store = await createBleepStore({
    // inline_max_bytes 0: the object must go to a file so that its fsync runs.
    overrides: { data_dir: dataDir, logging: { level: 'silent' }, storage: { inline_max_bytes: 0 } },
    onFatal: (err) => fatal.push(err),
  });
  const { url } = await store.listen(0, '127.0.0.1');
  assert.equal((await signed('PUT', `${url}/fatal-bucket`)).status, 200);
  // Make the disk lie: every fsync on a file handle now fails with EIO.
  const probe = await open(path.join(dataDir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = proto.sync;
  proto.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  try {
    const put = await signed('PUT', `${url}/fatal-bucket/k`, { body: 'data' });
    assert.equal(put.status, 500);
    assert.equal(put.code, 'InternalError');
  } finally {
    proto.sync = original;
  }
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]!.message, /fsync/);
  await assert.rejects(signed('GET', `${url}/`), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});
