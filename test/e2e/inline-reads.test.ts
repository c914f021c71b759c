// A small object's bytes live in its metadata row; only reads that return them (GET, the
// source of a copy) copy them out of SQLite. ACL reads and write preconditions do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { startServer } from '../helpers/server.ts';
import { scrape } from '../ops/prom.ts';

const SIZE = 40_000;

test("ACL reads and conditional PUT prechecks do not copy an inline object's bytes", async () => {
  // Named explicitly: gateways default to no inline objects.
  const srv = await startServer({ storage: { inline_max_bytes: 64 * 1024 } });
  try {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'inline-reads' }));
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'inline-reads', Key: 'small', Body: Buffer.alloc(SIZE, 7) }),
    );
    const read = async () => (await scrape(srv.url)).value('bleepstore_inline_bytes_read_total');
    const start = await read();

    await s3.send(new GetObjectAclCommand({ Bucket: 'inline-reads', Key: 'small' }));
    await s3.send(new PutObjectAclCommand({ Bucket: 'inline-reads', Key: 'small', ACL: 'public-read' }));
    await s3.send(new HeadObjectCommand({ Bucket: 'inline-reads', Key: 'small' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'inline-reads', Key: 'small', Body: Buffer.alloc(SIZE, 8), IfMatch: put.ETag }),
    );
    assert.equal(await read(), start, 'no inline bytes read by ACL reads, HEAD or the If-Match precheck');

    const got = await s3.send(new GetObjectCommand({ Bucket: 'inline-reads', Key: 'small' }));
    assert.equal((await got.Body!.transformToByteArray()).length, SIZE);
    assert.equal(await read(), start + SIZE, 'a GET reads them once');
  } finally {
    await srv.stop();
  }
});
