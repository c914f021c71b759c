// ListMultipartUploads pages by matching uploads only: a key-marker that sorts before the
// prefix must not let non-matching rows use up the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { startServer } from '../helpers/server.ts';

test('ListMultipartUploads with a key-marker before the prefix returns a full truncated page', async () => {
  const srv = await startServer();
  try {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'many-uploads' }));
    const keys = [
      ...Array.from({ length: 10 }, (_, i) => `a-${i}`),
      ...Array.from({ length: 1005 }, (_, i) => `b-${String(i).padStart(4, '0')}`),
    ];
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((Key) => s3.send(new CreateMultipartUploadCommand({ Bucket: 'many-uploads', Key }))),
      );
    }
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: 'many-uploads', Prefix: 'b-', KeyMarker: 'a' }),
    );
    assert.equal(page.Uploads?.length, 1000);
    assert.equal(page.IsTruncated, true);
    assert.equal(page.Uploads![0]!.Key, 'b-0000');
    assert.equal(page.NextKeyMarker, 'b-0999');
    const rest = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: 'many-uploads', Prefix: 'b-', KeyMarker: page.NextKeyMarker }),
    );
    assert.deepEqual(
      rest.Uploads?.map((u) => u.Key),
      ['b-1000', 'b-1001', 'b-1002', 'b-1003', 'b-1004'],
    );
    assert.equal(rest.IsTruncated, false);
  } finally {
    await srv.stop();
  }
});
