// The event targets as an operator sees them: the spec's bleepstore_queue_* metrics and the
// `queue` part of /health, while a real redis-server is up and while it is down; and the
// outbox cap (events.max_pending): beyond it the oldest events go, counted and logged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ConfigInput } from '../../lib/config.ts';
import type { QueueHealth } from '../../lib/events/health.ts';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { nameAndKey, redisStream, waitFor } from '../helpers/event-readers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const CAP = 5;

describe('event delivery metrics, health and outbox cap', {
  skip: !haveCommand('redis-server') && 'redis-server is not installed',
}, () => {
  let redis: Broker;
  let s: TestServer;
  before(async () => {
    redis = await startRedis();
    s = await startServer({
      events: { max_pending: CAP },
      queue: { enabled: true, backend: 'redis', redis: { url: redis.url, stream_prefix: 'obs' } },
    } as unknown as ConfigInput);
  });
  after(async () => {
    await s?.stop();
    await redis?.destroy();
  });

  const health = async () => (await (await fetch(`${s.url}/health`)).json()) as { status: string; queue: QueueHealth };
  const metric = async (name: string) => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{target="redis"\\} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `${name} is exported`);
    return Number(m[1]);
  };

  test('a healthy target: published counted, nothing pending, /health ok', async () => {
    const c = s.client();
    await c.send(new CreateBucketCommand({ Bucket: 'obs' }));
    for (let i = 0; i < 3; i++) await c.send(new PutObjectCommand({ Bucket: 'obs', Key: `up-${i}`, Body: 'x' }));
    await waitFor(
      () => metric('bleepstore_queue_published_total'),
      (n) => n >= 4,
    );
    assert.equal(await metric('bleepstore_queue_published_total'), 4);
    assert.equal(await metric('bleepstore_queue_pending'), 0);
    assert.equal(await metric('bleepstore_queue_connected'), 1);
    assert.ok((await metric('bleepstore_queue_latency_ms')) >= 0);
    const h = await health();
    assert.equal(h.status, 'ok');
    assert.deepEqual(
      { connected: h.queue.connected, pending: h.queue.pending_tasks, target: h.queue.targets[0]!.target },
      { connected: true, pending: 0, target: 'redis' },
    );
  });

  test('a target that is down: /health degraded, events wait, and beyond the cap the oldest go', async () => {
    const c = s.client();
    await redis.stop();
    for (let i = 0; i < 12; i++) await c.send(new PutObjectCommand({ Bucket: 'obs', Key: `down-${i}`, Body: 'x' }));
    const h = await waitFor(health, (x) => !x.queue.connected && x.queue.pending_tasks === CAP, 20_000);
    assert.equal(h.status, 'degraded');
    assert.equal(h.queue.pending_tasks, CAP);
    assert.match(h.queue.targets[0]!.last_error ?? '', /./);
    assert.ok(h.queue.targets[0]!.oldest_age_seconds >= 0);
    assert.equal(await metric('bleepstore_queue_dropped_total'), 12 - CAP);
    assert.ok((await metric('bleepstore_queue_failed_total')) >= 1);
    assert.equal(await metric('bleepstore_queue_connected'), 0);
    assert.ok(s.logs.some((l) => l.includes('event outbox over its cap')));

    await redis.start();
    const keys = async () =>
      (await redisStream(redis.url, 'obs:events')).map((b) => nameAndKey(b)[1]).filter((k) => k.startsWith('down-'));
    const got = await waitFor(keys, (k) => k.length >= CAP, 40_000);
    assert.deepEqual(got, ['down-7', 'down-8', 'down-9', 'down-10', 'down-11'], 'the newest events survive the cap');
    const after = await waitFor(health, (x) => x.queue.connected, 10_000);
    assert.equal(after.status, 'ok');
    assert.equal(after.queue.pending_tasks, 0);
  });
});
