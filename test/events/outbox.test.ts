// S3 writes become events through the outbox, delivered to a real redis-server: in commit
// order, with the AWS names, never lost while Redis is down (write-through: the writes still
// succeed at once, and the events follow when Redis returns).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectAclCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { createClient } from '@redis/client';
import type { ConfigInput } from '../../lib/config.ts';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

async function streamEvents(url: string, stream: string): Promise<Array<Record<string, unknown>>> {
  const c = createClient({ url });
  await c.connect();
  try {
    const entries = (await c.sendCommand(['XRANGE', stream, '-', '+'])) as Array<[string, string[]]>;
    return entries.map(([, f]) => JSON.parse(f[f.indexOf('body') + 1]!) as Record<string, unknown>);
  } finally {
    c.destroy();
  }
}

/** bleepstore_objects_total from /metrics: current versions, as bucket_stats counts them. */
async function objectsTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^bleepstore_objects_total (\d+)$/m.exec(text)![1]);
}

/** The `data` of the events in bs:events that `pick` chooses, once there are at least `n`. */
async function dataOf(
  url: string,
  n: number,
  pick: (d: Record<string, unknown>) => boolean,
): Promise<Array<Record<string, unknown>>> {
  const data = async () =>
    (await streamEvents(url, 'bs:events')).map((e) => e.data as Record<string, unknown>).filter(pick);
  return waitFor(data, (d) => d.length >= n);
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('events through the outbox', { skip: !haveCommand('redis-server') && 'redis-server is not installed' }, () => {
  let redis: Broker;
  let s: TestServer;
  before(async () => {
    redis = await startRedis();
    s = await startServer({
      queue: { enabled: true, backend: 'redis', redis: { url: redis.url, stream_prefix: 'bs' } },
    } as unknown as ConfigInput);
  });
  after(async () => {
    await s?.stop();
    await redis?.destroy();
  });

  test('every committed write yields its event, in commit order, and a refused write none', async () => {
    const c = s.client();
    await c.send(new CreateBucketCommand({ Bucket: 'evts' }));
    await c.send(new PutObjectCommand({ Bucket: 'evts', Key: 'a b.txt', Body: 'one' }));
    await c.send(new CopyObjectCommand({ Bucket: 'evts', Key: 'copy', CopySource: 'evts/a%20b.txt' }));
    await c.send(new PutObjectAclCommand({ Bucket: 'evts', Key: 'copy', ACL: 'public-read' }));
    await assert.rejects(c.send(new PutObjectCommand({ Bucket: 'evts', Key: 'a b.txt', Body: 'x', IfNoneMatch: '*' })));
    await c.send(new DeleteObjectCommand({ Bucket: 'evts', Key: 'a b.txt' }));
    await c.send(new DeleteObjectsCommand({ Bucket: 'evts', Delete: { Objects: [{ Key: 'copy' }] } }));
    const events = await waitFor(
      () => streamEvents(redis.url, 'bs:events'),
      (e) => e.length >= 6,
    );
    const seen = events.map((e) => [
      (e.data as Record<string, unknown>).s3_event,
      (e.data as Record<string, unknown>).key ?? '',
    ]);
    assert.deepEqual(seen, [
      ['bleepstore:BucketCreated', ''],
      ['s3:ObjectCreated:Put', 'a b.txt'],
      ['s3:ObjectCreated:Copy', 'copy'],
      ['s3:ObjectAcl:Put', 'copy'],
      ['s3:ObjectRemoved:Delete', 'a b.txt'],
      ['s3:ObjectRemoved:Delete', 'copy'],
    ]);
    const ids = events.map((e) => e.id as string);
    assert.deepEqual([...ids].sort(), ids, 'ids follow commit order');
    assert.equal(new Set(ids).size, ids.length);
    assert.equal((events[1]!.data as Record<string, unknown>).size, 3);
    console.log(`events: writes=6 refused=1 events=${events.length}`);
  });

  test('writes succeed while Redis is down, and their events arrive after it returns', async () => {
    const c = s.client();
    await redis.stop();
    const started = Date.now();
    for (let i = 0; i < 5; i++) await c.send(new PutObjectCommand({ Bucket: 'evts', Key: `down-${i}`, Body: 'x' }));
    assert.ok(Date.now() - started < 3000, 'a dead target does not slow writes');
    await redis.start();
    const events = await waitFor(
      () => streamEvents(redis.url, 'bs:events'),
      (e) => e.filter((x) => String((x.data as Record<string, unknown>).key).startsWith('down-')).length >= 5,
      40_000,
    );
    const keys = events
      .map((e) => (e.data as Record<string, unknown>).key)
      .filter((k) => String(k).startsWith('down-'));
    assert.deepEqual(keys, ['down-0', 'down-1', 'down-2', 'down-3', 'down-4']);
  });

  test('a delete on a versioned bucket announces s3:ObjectRemoved:DeleteMarkerCreated', async () => {
    const c = s.client();
    await c.send(new CreateBucketCommand({ Bucket: 'evts-vers' }));
    await c.send(
      new PutBucketVersioningCommand({ Bucket: 'evts-vers', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await c.send(new PutObjectCommand({ Bucket: 'evts-vers', Key: 'marked', Body: 'x' }));
    await c.send(new DeleteObjectCommand({ Bucket: 'evts-vers', Key: 'marked' }));
    const named = (e: Record<string, unknown>) => (e.data as Record<string, unknown>).key === 'marked';
    const events = await waitFor(
      () => streamEvents(redis.url, 'bs:events'),
      (e) => e.filter(named).length >= 2,
    );
    assert.deepEqual(
      events.filter(named).map((e) => (e.data as Record<string, unknown>).s3_event),
      ['s3:ObjectCreated:Put', 's3:ObjectRemoved:DeleteMarkerCreated'],
    );
  });

  test('events on a versioned bucket carry version ids, and announce every delete marker and every version removed for good', async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html:
    // DeleteMarkerCreated for each marker, ObjectRemoved:Delete for each version or marker
    // deleted by id; a version that becomes current again is not announced.
    const c = s.client();
    const B = 'evts-hist';
    await c.send(new CreateBucketCommand({ Bucket: B }));
    await c.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    const objectsBefore = await objectsTotal(s.url);
    const v1 = (await c.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await c.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'two!' }))).VersionId!;
    const m1 = (await c.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }))).VersionId!;
    const m2 = (await c.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }))).VersionId!;
    await c.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: v1 }));
    await c.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: m2 }));
    await c.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: m1 }));
    const got = await c.send(new GetObjectCommand({ Bucket: B, Key: 'k' }));
    assert.equal(got.VersionId, v2);
    const events = await dataOf(redis.url, 7, (d) => d.bucket === B && d.key === 'k');
    assert.deepEqual(
      events.map((d) => [d.s3_event, d.version_id]),
      [
        ['s3:ObjectCreated:Put', v1],
        ['s3:ObjectCreated:Put', v2],
        ['s3:ObjectRemoved:DeleteMarkerCreated', m1],
        ['s3:ObjectRemoved:DeleteMarkerCreated', m2],
        ['s3:ObjectRemoved:Delete', v1],
        ['s3:ObjectRemoved:Delete', m2],
        ['s3:ObjectRemoved:Delete', m1],
      ],
    );
    assert.equal(await objectsTotal(s.url), objectsBefore + 1, 'the bucket counts k once, its one current version');
  });

  test('PutObjectTagging and DeleteObjectTagging announce s3:ObjectTagging:Put and :Delete with the version they touched', async () => {
    const c = s.client();
    const B = 'evts-tags';
    await c.send(new CreateBucketCommand({ Bucket: B }));
    await c.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await c.send(new PutObjectCommand({ Bucket: B, Key: 't', Body: 'tagged' }));
    await c.send(new PutObjectCommand({ Bucket: B, Key: 't', Body: 'newer' }));
    await c.send(
      new PutObjectTaggingCommand({
        Bucket: B,
        Key: 't',
        VersionId: put.VersionId,
        Tagging: { TagSet: [{ Key: 'a', Value: '1' }] },
      }),
    );
    await c.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 't', VersionId: put.VersionId }));
    await assert.rejects(
      c.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'absent', Tagging: { TagSet: [] } })),
      'no event for a key that is not there',
    );
    const events = await dataOf(
      redis.url,
      2,
      (d) => d.bucket === B && String(d.s3_event).startsWith('s3:ObjectTagging'),
    );
    assert.deepEqual(
      events.map((d) => [d.s3_event, d.key, d.version_id, d.etag]),
      [
        ['s3:ObjectTagging:Put', 't', put.VersionId, put.ETag],
        ['s3:ObjectTagging:Delete', 't', put.VersionId, put.ETag],
      ],
    );
  });

  test('lifecycle expiries are announced as s3:LifecycleExpiration:Delete and :DeleteMarkerCreated, not as removals by a caller', async () => {
    // One-second lifecycle days; the worker runs every second.
    const lc = await startServer({
      multipart: { reap_interval_seconds: 1 },
      lifecycle: { day_seconds: 1 },
      queue: { enabled: true, backend: 'redis', redis: { url: redis.url, stream_prefix: 'lc' } },
    } as unknown as ConfigInput);
    try {
      const c = lc.client();
      const expire = (versioned: boolean) => ({
        Rules: [
          {
            ID: 'all',
            Status: 'Enabled' as const,
            Filter: {},
            Expiration: { Days: 1 },
            ...(versioned ? { NoncurrentVersionExpiration: { NoncurrentDays: 1 } } : {}),
          },
        ],
      });
      await c.send(new CreateBucketCommand({ Bucket: 'lc-plain' }));
      await c.send(
        new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-plain', LifecycleConfiguration: expire(false) }),
      );
      await c.send(new CreateBucketCommand({ Bucket: 'lc-vers' }));
      await c.send(
        new PutBucketVersioningCommand({ Bucket: 'lc-vers', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      await c.send(
        new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-vers', LifecycleConfiguration: expire(true) }),
      );
      await c.send(new PutObjectCommand({ Bucket: 'lc-plain', Key: 'p', Body: 'plain' }));
      const v1 = (await c.send(new PutObjectCommand({ Bucket: 'lc-vers', Key: 'k', Body: 'one' }))).VersionId!;
      const v2 = (await c.send(new PutObjectCommand({ Bucket: 'lc-vers', Key: 'k', Body: 'two' }))).VersionId!;
      const expiries = (all: Array<Record<string, unknown>>) =>
        all.map((e) => e.data as Record<string, unknown>).filter((d) => String(d.s3_event).startsWith('s3:Lifecycle'));
      const events = expiries(
        await waitFor(
          () => streamEvents(redis.url, 'lc:events'),
          (e) => expiries(e).length >= 4,
          30_000,
        ),
      );
      const seen = events.map(
        (d) => `${d.bucket as string} ${d.s3_event as string} ${(d.version_id as string) ?? '-'}`,
      );
      assert.ok(seen.includes('lc-plain s3:LifecycleExpiration:Delete -'), seen.join('\n'));
      assert.ok(seen.includes(`lc-vers s3:LifecycleExpiration:Delete ${v1}`), seen.join('\n'));
      assert.ok(seen.includes(`lc-vers s3:LifecycleExpiration:Delete ${v2}`), seen.join('\n'));
      assert.ok(
        seen.some((l) => l.startsWith('lc-vers s3:LifecycleExpiration:DeleteMarkerCreated ')),
        seen.join('\n'),
      );
      assert.ok(!events.some((d) => String(d.s3_event).startsWith('s3:ObjectRemoved')));
    } finally {
      await lc.stop();
    }
  });

  for (const how of ['memory', 'dispatcher: main', 'dispatcher: worker'] as const)
    test(`a server whose dispatcher runs where it is configured to (${how}) delivers its events`, async () => {
      // The dispatcher's worker thread (events.dispatcher: worker) reads the outbox over a
      // second connection, which an in-memory database cannot have: such a server keeps the
      // dispatcher in its own thread, as the default (main) does.
      const prefix = how === 'memory' ? 'mem' : how.replace('dispatcher: ', '');
      const mem = await startServer({
        ...(how === 'memory' ? { storage: { backend: 'memory' } } : { events: { dispatcher: prefix } }),
        queue: { enabled: true, backend: 'redis', redis: { url: redis.url, stream_prefix: prefix } },
      } as unknown as ConfigInput);
      try {
        const c = mem.client();
        await c.send(new CreateBucketCommand({ Bucket: `in${prefix}` }));
        await c.send(new PutObjectCommand({ Bucket: `in${prefix}`, Key: 'k', Body: 'v' }));
        const events = await waitFor(
          () => streamEvents(redis.url, `${prefix}:events`),
          (e) => e.length >= 2,
        );
        assert.deepEqual(
          events.map((e) => (e as { type: string }).type),
          ['bucket.created', 'object.created'],
        );
      } finally {
        await mem.stop();
      }
    });
});
