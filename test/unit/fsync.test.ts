import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsyncError, fsyncOrDie } from '../../lib/storage/backend.ts';

test('a failed fsync becomes FsyncError, which the server treats as fatal', async () => {
  const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
  await assert.rejects(
    fsyncOrDie({ sync: () => Promise.reject(eio) }, '/data/objects/.tmp/x'),
    (err: unknown) =>
      err instanceof FsyncError && err.message.includes('/data/objects/.tmp/x') && (err as Error).cause === eio,
  );
  await fsyncOrDie({ sync: () => Promise.resolve() }, 'fine');
});
