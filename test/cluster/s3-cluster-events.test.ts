// Events in cluster mode: the outbox is replicated through Raft, only the leader publishes it,
// and a new leader drains what the old one left (same event ids: at-least-once, never lost).
// Sync consistency in a cluster: a write is answered once the leader's dispatcher has its
// event confirmed (before, the replicated submit skipped the gate: sync acted as
// write-through). A real redis-server and a 3-node bin/bleepstore cluster.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createClient } from '@redis/client';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { nameAndKey, redisStream, waitFor } from '../helpers/event-readers.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';

const skip = haveCommand('redis-server') ? false : 'redis-server is not installed';
// Long enough for a loaded CI machine to confirm a healthy write even across a leader change
// (election, then the new leader's publish), short enough for the test. 2000 ms was not.
const SYNC_TIMEOUT_MS = 5000;
let redis: Broker;
let cluster: S3Cluster | undefined;
before(async () => {
  if (skip) return;
  redis = await startRedis();
});
after(async () => {
  await cluster?.stop();
  await redis?.destroy();
});

/** A new 3-node cluster in sync event mode, publishing to the Redis stream `<prefix>:events`. */
async function startSyncCluster(prefix: string, timeoutMs: number, proxied = false): Promise<S3Cluster> {
  await cluster?.stop();
  cluster = await S3Cluster.create(3, {
    proxied,
    clusterYaml:
      `events:\n  sync_timeout_ms: ${timeoutMs}\n` +
      `queue:\n  enabled: true\n  backend: redis\n  consistency: sync\n  redis:\n    url: ${redis.url}\n    stream_prefix: ${prefix}\n`,
  });
  await cluster.startAll();
  return cluster;
}

/** [event id, object key] of every entry in the stream, oldest first. */
async function entries(url: string): Promise<Array<[string, string]>> {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  try {
    const raw = (await c.sendCommand(['XRANGE', 'cl:events', '-', '+'])) as Array<[string, string[]]>;
    return raw.map(([, f]) => {
      const body = JSON.parse(f[f.indexOf('body') + 1]!) as { data: { key?: string } };
      return [f[f.indexOf('id') + 1]!, body.data.key ?? ''];
    });
  } finally {
    c.destroy();
  }
}

test('only the leader publishes events, and after a kill -9 of the leader every acknowledged write has one', {
  skip,
  timeout: 120_000,
}, async () => {
  cluster = await S3Cluster.create(3, {
    clusterYaml: `queue:\n  enabled: true\n  backend: redis\n  redis:\n    url: ${redis.url}\n    stream_prefix: cl\n`,
  });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const termAtStart = (await c.health(leader))?.term;
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'evs' }));
  await c.waitConverged();

  // N PUTs, round-robin over the three nodes: exactly N events, N distinct ids.
  const N = 30;
  for (let i = 0; i < N; i++)
    await c.client(c.nodes[i % 3]!).send(new PutObjectCommand({ Bucket: 'evs', Key: `a-${i}`, Body: `v${i}` }));
  await until(async () => (await entries(redis.url)).filter(([, k]) => k.startsWith('a-')).length >= N, 15_000);
  await new Promise((r) => setTimeout(r, 1500)); // time for a follower to publish, were it to
  const first = (await entries(redis.url)).filter(([, k]) => k.startsWith('a-'));
  console.log(
    `events: ${N} PUTs through 3 nodes, ${first.length} stream entries, ${new Set(first.map(([id]) => id)).size} ids`,
  );
  assert.equal(new Set(first.map(([id]) => id)).size, N, 'one event id per PUT');
  assert.equal(first.length, N, `${first.length} entries for ${N} PUTs: an event published by more than one node`);

  // Events that waited in the outbox while Redis was down: once it is back, still one each
  // (every node holds the rows; only the leader may publish them).
  await redis.stop();
  for (let i = 0; i < N; i++)
    await c.client(c.nodes[i % 3]!).send(new PutObjectCommand({ Bucket: 'evs', Key: `d-${i}`, Body: `v${i}` }));
  await new Promise((r) => setTimeout(r, 1500));
  await redis.start();
  await until(async () => (await entries(redis.url)).filter(([, k]) => k.startsWith('d-')).length >= N, 40_000);
  await new Promise((r) => setTimeout(r, 3000));
  const waited = (await entries(redis.url)).filter(([, k]) => k.startsWith('d-'));
  console.log(`events: ${N} PUTs while Redis was down, ${waited.length} stream entries after it returned`);
  assert.equal(new Set(waited.map(([id]) => id)).size, N);
  assert.equal(waited.length, N, 'an event that waited was published by more than one node');
  // A follower never tries: no confirmed and no failed publish (before, followers published,
  // failed to commit the outbox delete, and backed off for up to 30 s).
  const attempts = await Promise.all(
    c.nodes.map(async (n) => {
      const text = await (await fetch(`${c.url(n)}/metrics`)).text();
      const get = (m: string) => Number(new RegExp(`^${m}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? -1);
      return get('bleepstore_queue_published_total') + get('bleepstore_queue_failed_total');
    }),
  );
  console.log(
    `events: publish attempts per node (leader ${leader.name}): ${c.nodes.map((n, i) => `${n.name} ${attempts[i]}`).join(', ')}`,
  );
  // Only while one leader held the whole test are the other two known never to have led.
  const termAtEnd = (await c.health(leader))?.term;
  if (termAtEnd !== termAtStart)
    console.log(`events: leadership moved (term ${termAtStart} -> ${termAtEnd}); which nodes led is not known`);
  else
    assert.deepEqual(
      c.nodes.filter((n) => n !== leader).map((n) => attempts[c.nodes.indexOf(n)]),
      [0, 0],
      'a follower tried to publish',
    );

  // Writers on every node; the leader is killed mid-run. Every acknowledged PUT has an event.
  const acked: string[] = [];
  let stop = false;
  let seq = 0;
  const writer = async (w: number): Promise<void> => {
    while (!stop) {
      const key = `b-${w}-${seq++}`;
      const node = c.nodes.filter((n) => n.proc)[(w + seq) % c.nodes.filter((n) => n.proc).length]!;
      try {
        await c.client(node).send(new PutObjectCommand({ Bucket: 'evs', Key: key, Body: key }));
        acked.push(key);
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await new Promise((r) => setTimeout(r, 1500));
  const old = await c.waitStable(60_000);
  await c.kill9(old);
  const t0 = Date.now();
  await until(async () => (await c.leader()) !== undefined, 15_000);
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all(writers);
  await until(async () => {
    const have = new Set((await entries(redis.url)).map(([, k]) => k));
    return acked.every((k) => have.has(k));
  }, 20_000);
  const all = await entries(redis.url);
  const have = new Set(all.map(([, k]) => k));
  const missing = acked.filter((k) => !have.has(k));
  const ids = new Set(all.map(([id]) => id));
  console.log(
    `events: ${acked.length} acknowledged PUTs during the kill, missing events ${missing.length}, ` +
      `stream entries ${all.length}, distinct ids ${ids.size} (duplicates ${all.length - ids.size}), ` +
      `new leader after ${Date.now() - t0} ms`,
  );
  assert.ok(acked.length > 10, `too few writes acknowledged (${acked.length})`);
  assert.deepEqual(missing, [], 'every acknowledged write has an event');
});

test('in a cluster, sync consistency answers a write only after its event is confirmed, through the leader and a follower', {
  skip,
  timeout: 120_000,
}, async () => {
  const c = await startSyncCluster('cs', SYNC_TIMEOUT_MS);
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  const events = async () => (await redisStream(redis.url, 'cs:events')).map((b) => nameAndKey(b).join(' '));
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'syn' }));
  await c.waitConverged();

  for (let i = 0; i < 10; i++) {
    const via = i % 2 ? follower : leader;
    await c
      .client(via)
      .send(new PutObjectCommand({ Bucket: 'syn', Key: `k${i}`, Body: `v${i}` }))
      .catch(async (err: unknown) => {
        // What the cluster looked like when a healthy write timed out (for the reader of a CI log).
        const hs = await Promise.all(c.nodes.map((n) => c.health(n)));
        throw new Error(`PUT k${i} through ${via.name}: ${(err as Error).message} ${JSON.stringify(hs)}`);
      });
    assert.ok(
      (await events()).includes(`s3:ObjectCreated:Put k${i}`),
      `event of k${i} before its response (${via.name})`,
    );
  }

  await redis.stop();
  for (const via of [leader, follower]) {
    const t0 = Date.now();
    await assert.rejects(
      c.client(via).send(new PutObjectCommand({ Bucket: 'syn', Key: `late-${via.name}`, Body: 'x' })),
      {
        name: 'ServiceUnavailable',
      },
    );
    const took = Date.now() - t0;
    assert.ok(took >= SYNC_TIMEOUT_MS - 50, `${via.name} answered after ${took} ms, before the sync timeout`);
    // Committed all the same, on the node that took it.
    assert.equal(
      (await c.client(via).send(new HeadObjectCommand({ Bucket: 'syn', Key: `late-${via.name}` }))).ContentLength,
      1,
    );
  }
  await redis.start();
  const after = await waitFor(events, (e) => e.includes(`s3:ObjectCreated:Put late-${follower.name}`), 30_000);
  assert.ok(after.includes(`s3:ObjectCreated:Put late-${leader.name}`));
  console.log(
    `sync in a cluster: 10 writes confirmed before their responses; 2 answered 503 after ${SYNC_TIMEOUT_MS} ms with Redis down, their events delivered after it returned`,
  );
});

test('in a cluster, a sync write whose leader lost its leadership is answered once the new leader confirms its event', {
  skip,
  timeout: 120_000,
}, async () => {
  // Long enough that the answer can only come from the new leader's confirmation, not the timeout.
  const timeoutMs = 30_000;
  const c = await startSyncCluster('lm', timeoutMs, true);
  const old = await c.waitStable();
  await c.client(old).send(new CreateBucketCommand({ Bucket: 'moved' }));
  await c.waitConverged();

  // Committed, then waiting for its event: Redis is down.
  await redis.stop();
  const t0 = Date.now();
  const put = c.client(old).send(new PutObjectCommand({ Bucket: 'moved', Key: 'k', Body: 'v' }));
  const other = c.nodes.find((n) => n !== old)!;
  assert.ok(
    await until(
      () =>
        c
          .client(other)
          .send(new HeadObjectCommand({ Bucket: 'moved', Key: 'k' }))
          .then(
            () => true,
            () => false,
          ),
      10_000,
    ),
    'the write reached a follower',
  );
  // The leader is cut off: the other two elect a new one, which publishes once Redis returns.
  c.cut(old, { kind: 'drop' });
  assert.ok(
    await until(async () => {
      const hs = await Promise.all(c.nodes.filter((n) => n !== old).map((n) => c.health(n)));
      return hs.some((h) => h?.role === 'leader');
    }, 20_000),
    'the other two elected a leader',
  );
  await redis.start();
  await waitFor(
    async () => (await redisStream(redis.url, 'lm:events')).map((b) => nameAndKey(b).join(' ')),
    (e) => e.includes('s3:ObjectCreated:Put k'),
    20_000,
  );
  c.healAll();
  // The old leader learns of the confirmation through the log and answers the write.
  const out = await put;
  const took = Date.now() - t0;
  console.log(
    `sync across a leader change: answered ${out.$metadata.httpStatusCode} after ${took} ms (timeout ${timeoutMs} ms)`,
  );
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.ok(took < timeoutMs, `answered after ${took} ms: the sync timeout, not the confirmation`);
});
