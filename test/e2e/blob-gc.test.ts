// Blob removals that fail while serving are retried by the server itself, not only at the
// next start: gc_files keeps the intent and the periodic gc finishes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_ONLY, startServer } from '../helpers/server.ts';
import { diskState, pendingRemovals } from '../helpers/files.ts';
import { waitFor } from '../ops/wait.ts';

test('a blob removal that failed is retried while the server runs', { skip: LOCAL_ONLY }, async () => {
  const srv = await startServer({ multipart: { reap_interval_seconds: 1 }, storage: { inline_max_bytes: 0 } });
  try {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'gc-retry' }));
    await s3.send(new PutObjectCommand({ Bucket: 'gc-retry', Key: 'k', Body: 'first version' }));
    const [old] = (await diskState(srv.dataDir)).referenced;
    // A directory where the blob was: unlink() fails with EISDIR, as a flaky disk might.
    const blobPath = path.join(srv.dataDir, 'objects', old!.slice(0, 2), old!);
    await unlink(blobPath);
    await mkdir(blobPath);
    await writeFile(path.join(blobPath, 'x'), 'x');
    await s3.send(new PutObjectCommand({ Bucket: 'gc-retry', Key: 'k', Body: 'second version' }));
    await waitFor(() => srv.logs.some((l) => l.includes('file removal failed')), 'the failed removal in the log', 5000);
    assert.deepEqual(pendingRemovals(srv.dataDir), [old]);
    await rm(blobPath, { recursive: true });
    await waitFor(() => pendingRemovals(srv.dataDir).length === 0, 'the retried removal', 5000);
  } finally {
    await srv.stop();
  }
});
