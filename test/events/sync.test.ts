// Sync consistency: a write's response waits until the event target (a real redis-server)
// confirmed its event; when the target cannot confirm within sync_timeout_ms the write is
// still committed, the caller gets 503 ServiceUnavailable, and the event follows later.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import type { ConfigInput } from '../../lib/config.ts';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { nameAndKey, redisStream, waitFor } from '../helpers/event-readers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { diskState } from '../helpers/files.ts';

// Long enough for a loaded CI machine to confirm a healthy write, short enough for the test.
const TIMEOUT_MS = 2000;

describe('sync event consistency', { skip: !haveCommand('redis-server') && 'redis-server is not installed' }, () => {
  let redis: Broker;
  let s: TestServer;
  before(async () => {
    redis = await startRedis();
    s = await startServer({
      events: { sync_timeout_ms: TIMEOUT_MS },
      queue: { enabled: true, backend: 'redis', consistency: 'sync', redis: { url: redis.url, stream_prefix: 'sy' } },
    } as unknown as ConfigInput);
  });
  after(async () => {
    await s?.stop();
    await redis?.destroy();
  });
  const events = async () => (await redisStream(redis.url, 'sy:events')).map((b) => nameAndKey(b).join(' '));

  test('each write is answered only after its event is in the stream', async () => {
    const c = s.client({ maxAttempts: 1 });
    await c.send(new CreateBucketCommand({ Bucket: 'sync-b' }));
    for (let i = 0; i < 10; i++) {
      await c.send(new PutObjectCommand({ Bucket: 'sync-b', Key: `k${i}`, Body: 'x' }));
      assert.ok((await events()).includes(`s3:ObjectCreated:Put k${i}`), `event of k${i} before its response`);
    }
    await c.send(new DeleteObjectCommand({ Bucket: 'sync-b', Key: 'k0' }));
    assert.ok((await events()).includes('s3:ObjectRemoved:Delete k0'));
  });

  test('a target that cannot confirm: 503 ServiceUnavailable after the timeout, the write committed, the event later', async () => {
    const c = s.client({ maxAttempts: 1 });
    await redis.stop();
    const t0 = Date.now();
    await assert.rejects(c.send(new PutObjectCommand({ Bucket: 'sync-b', Key: 'late', Body: 'x' })), (e: Error) => {
      assert.equal(e.name, 'ServiceUnavailable');
      assert.match(e.message, /committed/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= TIMEOUT_MS - 50 && took < TIMEOUT_MS + 3000, `answered after ${took} ms`);
    const head = await c.send(new HeadObjectCommand({ Bucket: 'sync-b', Key: 'late' }));
    assert.equal(head.ContentLength, 1);
    // A body stored as a file (not inline in the row): the committed object keeps its bytes.
    const big = randomBytes(512 * 1024);
    await assert.rejects(c.send(new PutObjectCommand({ Bucket: 'sync-b', Key: 'late-big', Body: big })), {
      name: 'ServiceUnavailable',
    });
    const back = await c.send(new GetObjectCommand({ Bucket: 'sync-b', Key: 'late-big' }));
    assert.ok(
      Buffer.from(await back.Body!.transformToByteArray()).equals(big),
      'the committed object reads back whole',
    );
    // Overwriting and deleting under the timeout still frees the blobs the commits released.
    await assert.rejects(
      c.send(new PutObjectCommand({ Bucket: 'sync-b', Key: 'late-big', Body: randomBytes(300_000) })),
      {
        name: 'ServiceUnavailable',
      },
    );
    await assert.rejects(c.send(new DeleteObjectCommand({ Bucket: 'sync-b', Key: 'late-big' })), {
      name: 'ServiceUnavailable',
    });
    const disk = await waitFor(
      () => diskState(s.dataDir),
      (d) => d.files.size === d.referenced.size,
      TIMEOUT_MS + 5000,
    );
    assert.deepEqual([...disk.files].sort(), [...disk.referenced].sort(), 'no blob left behind, none missing');
    await redis.start();
    const got = await waitFor(events, (e) => e.includes('s3:ObjectCreated:Put late'), 40_000);
    assert.ok(got.includes('s3:ObjectCreated:Put late'));
  });
});
