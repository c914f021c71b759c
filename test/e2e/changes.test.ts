// The changes feed: subscribers see what each committed request changed, after COMMIT, and
// nothing for a request that was refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer } from '../helpers/server.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import type { Change } from '../../lib/index.ts';

test('the changes feed reports committed bucket and object changes and nothing for a refused write', async () => {
  const srv = await startServer();
  const seen: Change[] = [];
  const stop = srv.store.subscribe((changes) => void seen.push(...changes));
  try {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'feed' }));
    await s3.send(new PutObjectCommand({ Bucket: 'feed', Key: 'k', Body: 'abc' }));
    await s3.send(new PutObjectCommand({ Bucket: 'feed', Key: 'k', Body: 'abcdef' }));
    const refused = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: 'feed', Key: 'k', Body: 'x', IfNoneMatch: '*' })),
    );
    assert.equal(refused.$metadata.httpStatusCode, 412);
    await s3.send(new DeleteObjectCommand({ Bucket: 'feed', Key: 'k' }));
    const etag = (c: Change) => ('etag' in c ? { ...c, etag: 'E' } : c);
    assert.deepEqual(seen.map(etag), [
      { type: 'bucket.created', bucket: 'feed' },
      { type: 'object.written', bucket: 'feed', key: 'k', size: 3, etag: 'E', replaced: null },
      { type: 'object.written', bucket: 'feed', key: 'k', size: 6, etag: 'E', replaced: { size: 3 } },
      { type: 'object.removed', bucket: 'feed', key: 'k', size: 6 },
    ]);
  } finally {
    stop();
    await srv.stop();
  }
});
