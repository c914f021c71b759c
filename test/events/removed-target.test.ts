// A target removed from the server config while buckets' rules still name it: its undelivered
// outbox rows are dropped at the next start (logged), and later events are not queued for it,
// so nothing piles up in an outbox no loop drains.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ConfigInput } from '../../lib/config.ts';
import { haveCommand, startRedis } from '../helpers/brokers.ts';
import { deadPort } from '../helpers/net.ts';
import { nameAndKey, redisStream, waitFor } from '../helpers/event-readers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

test('outbox rows of a target no longer configured are dropped at start and no new ones are written', {
  skip: !haveCommand('redis-server') && 'redis-server is not installed',
}, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-removed-target-'));
  const redis = await startRedis();
  const keep = { name: 'keep', type: 'redis', url: redis.url, redis: { stream: 'keep' } };
  const gone = { name: 'gone', type: 'redis', url: `redis://127.0.0.1:${await deadPort()}`, timeout_ms: 200 };
  const start = (targets: object[]) => startServer({ data_dir: dir, events: { targets } } as unknown as ConfigInput);
  const dropped = (logs: string[]) =>
    logs.filter((l) => l.includes('targets no longer configured')).map((l) => JSON.parse(l).dropped as number);
  let s: TestServer | undefined;
  try {
    s = await start([keep, gone]);
    let c = s.client();
    await c.send(new CreateBucketCommand({ Bucket: 'rm-target' }));
    await c.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'rm-target',
        NotificationConfiguration: {
          QueueConfigurations: ['keep', 'gone'].map((t) => ({
            QueueArn: `arn:bleepstore:sqs:us-east-1::${t}`,
            Events: ['s3:ObjectCreated:*' as const],
          })),
        },
      }),
    );
    for (const k of ['a', 'b', 'c']) await c.send(new PutObjectCommand({ Bucket: 'rm-target', Key: k, Body: k }));
    await s.stop();
    s = undefined;
    const second = await start([keep]);
    s = second;
    c = s.client();
    await waitFor(
      async () => dropped(second.logs),
      (d) => d.length > 0,
    );
    assert.deepEqual(dropped(second.logs), [3], 'the three events for "gone" were dropped');
    await c.send(new PutObjectCommand({ Bucket: 'rm-target', Key: 'd', Body: 'd' }));
    const got = await waitFor(
      () => redisStream(redis.url, 'keep'),
      (b) => b.length >= 4,
    );
    assert.deepEqual(
      got.map((b) => nameAndKey(b)[1]),
      ['a', 'b', 'c', 'd'],
    );
    await s.stop();
    s = undefined;
    const third = await start([keep]);
    s = third;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(dropped(third.logs), [], 'nothing was queued for "gone" after it left the config');
  } finally {
    await s?.stop();
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});
