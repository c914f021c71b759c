// Each event target against the real thing: Debian's redis-server and rabbitmq-server on free
// loopback ports, and a real HTTP server for webhooks.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@redis/client';
import amqp from 'amqplib';
import { RabbitTarget } from '../../lib/events/targets/rabbitmq.ts';
import { RedisTarget } from '../../lib/events/targets/redis.ts';
import type { TargetMessage } from '../../lib/events/targets/target.ts';
import { WebhookTarget, webhookSignature } from '../../lib/events/targets/webhook.ts';
import { accepts, type Broker, haveCommand, startRabbit, startRedis } from '../helpers/brokers.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';

const msgs = (from: number, n: number): TargetMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `evt_${from + i}`,
    type: 'object.created',
    partitionKey: `b/k${from + i}`,
    body: JSON.stringify({ n: from + i }),
  }));

describe('Redis Streams target', { skip: !haveCommand('redis-server') && 'redis-server is not installed' }, () => {
  let redis: Broker;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.destroy();
  });

  test('XADDs every message in order and creates the consumer group', async () => {
    const t = new RedisTarget({
      name: 'r',
      format: 'aws',
      url: redis.url,
      stream: 'ev',
      consumerGroup: 'workers',
      maxLen: 0,
      timeoutMs: 2000,
    });
    await t.publish(msgs(1, 5));
    const c = createClient({ url: redis.url });
    await c.connect();
    const entries = (await c.sendCommand(['XRANGE', 'ev', '-', '+'])) as Array<[string, string[]]>;
    assert.deepEqual(
      entries.map(([, f]) => f[1]),
      ['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5'],
    );
    assert.deepEqual(entries[0]![1], ['id', 'evt_1', 'type', 'object.created', 'key', 'b/k1', 'body', '{"n":1}']);
    const groups = (await c.sendCommand(['XINFO', 'GROUPS', 'ev'])) as unknown[][];
    assert.equal(groups.length, 1);
    c.destroy();
    await t.close();
  });

  test('a publish while Redis is down fails fast, and the next one after it returns succeeds', async () => {
    const t = new RedisTarget({
      name: 'r',
      format: 'aws',
      url: redis.url,
      stream: 'ev2',
      consumerGroup: 'workers',
      maxLen: 0,
      timeoutMs: 1000,
    });
    await t.publish(msgs(1, 1));
    await redis.stop();
    const started = Date.now();
    await assert.rejects(t.publish(msgs(2, 1)));
    assert.ok(Date.now() - started < 3000, 'failed within the timeout');
    await redis.start();
    await t.publish(msgs(3, 1));
    const c = createClient({ url: redis.url });
    await c.connect();
    const entries = (await c.sendCommand(['XRANGE', 'ev2', '-', '+'])) as Array<[string, string[]]>;
    // evt_1 was confirmed before the restart: the append-only file kept it.
    assert.deepEqual(
      entries.map(([, f]) => f[1]),
      ['evt_1', 'evt_3'],
    );
    c.destroy();
    await t.close();
  });

  test('a publish to a Redis that stops answering fails within about twice its timeout, and the target publishes again once it answers', async () => {
    const proxy = await new FaultProxy(redis.port).listen();
    try {
      const t = new RedisTarget({
        name: 'r',
        format: 'aws',
        url: `redis://127.0.0.1:${proxy.port}`,
        stream: 'ev4',
        consumerGroup: 'workers',
        maxLen: 0,
        timeoutMs: 1000,
      });
      await t.publish(msgs(1, 1));
      proxy.set({ kind: 'stall' });
      // No per-command timer in the client: the batch's own timeout must end the wait.
      const outcome = await Promise.race([
        t.publish(msgs(2, 1)).then(
          () => 'published',
          () => 'failed',
        ),
        sleep(2500, 'still waiting'),
      ]);
      assert.equal(outcome, 'failed');
      proxy.set({ kind: 'pass' });
      await t.publish(msgs(3, 1));
      const c = createClient({ url: redis.url });
      await c.connect();
      const entries = (await c.sendCommand(['XRANGE', 'ev4', '-', '+'])) as Array<[string, string[]]>;
      // evt_2 may or may not have reached Redis before the stall (at least once): evt_1 and
      // evt_3 must be there, in order.
      const ids = entries.map(([, f]) => f[1]);
      assert.deepEqual(
        ids.filter((id) => id !== 'evt_2'),
        ['evt_1', 'evt_3'],
      );
      c.destroy();
      await t.close();
    } finally {
      await proxy.close();
    }
  });

  test('MAXLEN trims the stream approximately', async () => {
    const t = new RedisTarget({
      name: 'r',
      format: 'aws',
      url: redis.url,
      stream: 'ev3',
      consumerGroup: 'g',
      maxLen: 10,
      timeoutMs: 2000,
    });
    for (let i = 0; i < 10; i++) await t.publish(msgs(i * 100, 100));
    const c = createClient({ url: redis.url });
    await c.connect();
    const len = Number(await c.sendCommand(['XLEN', 'ev3']));
    assert.ok(len < 1000 && len >= 10, `length ${len} trimmed`);
    c.destroy();
    await t.close();
  });
});

describe('RabbitMQ target', { skip: !haveCommand('epmd') && 'rabbitmq-server is not installed' }, () => {
  let rabbit: Broker;
  before(async () => {
    rabbit = await startRabbit();
  });
  after(async () => {
    await rabbit.destroy();
  });

  const rabbitTarget = (exchange: string, queue: string, timeoutMs: number, url = rabbit.url) =>
    new RabbitTarget({
      name: 'q',
      format: 'bleepstore',
      url,
      exchange,
      exchangeType: 'topic',
      queue,
      timeoutMs,
    });

  async function drain(queue: string): Promise<amqp.GetMessage[]> {
    const conn = await amqp.connect(rabbit.url);
    // The next test kills the broker: a reset on this closed connection's socket must not be
    // an uncaught 'error'.
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.push(m);
    }
    await conn.close();
    return out;
  }

  test('publishes persistent messages to a durable queue, confirmed, routed by type', async () => {
    const t = rabbitTarget('bleep', 'bleep-events', 5000);
    await t.publish(msgs(1, 4));
    const got = await drain('bleep-events');
    assert.deepEqual(
      got.map((m) => m.properties.messageId),
      ['evt_1', 'evt_2', 'evt_3', 'evt_4'],
    );
    assert.equal(got[0]!.fields.routingKey, 'object.created');
    assert.equal(got[0]!.properties.deliveryMode, 2);
    assert.equal(got[0]!.content.toString(), '{"n":1}');
    await t.close();
  });

  test('the dead-letter count reports the messages consumers rejected', async () => {
    const t = rabbitTarget('bleep-dl', 'bleep-dl-events', 5000);
    await t.publish(msgs(1, 3));
    const conn = await amqp.connect(rabbit.url);
    conn.on('error', () => {}); // as in drain(): the next test kills the broker
    const ch = await conn.createChannel();
    for (let i = 0; i < 2; i++) {
      const m = await ch.get('bleep-dl-events');
      assert.ok(m);
      ch.nack(m, false, false);
    }
    for (let i = 0; i < 100 && (await ch.checkQueue('bleep-dl-events.dead-letter')).messageCount < 2; i++)
      await sleep(50);
    await conn.close();
    let count = t.deadLetters();
    for (let i = 0; i < 100 && count === undefined; i++) {
      await sleep(50);
      count = t.deadLetters();
    }
    assert.equal(count, 2);
    await t.close();
  });

  test('confirmed messages survive a broker restart; a publish while it is down fails, then recovers', async () => {
    const t = rabbitTarget('bleep', 'bleep-events', 3000);
    await t.publish(msgs(10, 2));
    await rabbit.stop();
    // The premise of the rest: the broker is gone, not dying (its VM held the port for a while
    // after the rabbitmq-server script had exited, and the "restarted" broker was the old one).
    assert.equal(await accepts(rabbit.port), false, 'the stopped broker accepts no connections');
    await assert.rejects(t.publish(msgs(12, 1)));
    await rabbit.start();
    await t.publish(msgs(13, 1));
    const got = await drain('bleep-events');
    assert.deepEqual(
      got.map((m) => m.properties.messageId),
      ['evt_10', 'evt_11', 'evt_13'],
    );
    await t.close();
  });

  test('a connection that opens only after the connect timeout is closed, so its socket dropping later cannot crash the server', async () => {
    const proxy = await new FaultProxy(rabbit.port).listen();
    try {
      // Each hop of the handshake takes 300 ms: amqplib's socket never idles for the 1 s
      // timeout, but the connection opens ~1.8 s in, after publish has given up on it.
      proxy.set({ kind: 'delay', ms: 300 });
      const t = rabbitTarget('bleep', 'bleep-events', 1000, `amqp://guest:guest@127.0.0.1:${proxy.port}`);
      await assert.rejects(t.publish(msgs(30, 1)), /connecting to RabbitMQ target "q" timed out/);
      await sleep(3000);
      // Were that connection left without an 'error' listener, this would throw (uncaught).
      proxy.set({ kind: 'drop' });
      await sleep(300);
      await t.close();
    } finally {
      await proxy.close();
    }
  });

  test('a publish to a broker that stops answering fails within about twice its timeout, and the target publishes again once it answers', async () => {
    const proxy = await new FaultProxy(rabbit.port).listen();
    try {
      const t = rabbitTarget('bleep', 'bleep-events', 1000, `amqp://guest:guest@127.0.0.1:${proxy.port}`);
      await t.publish(msgs(20, 1));
      proxy.set({ kind: 'stall' });
      // Confirms time out after 1 s, then the target closes its connection: amqplib's close()
      // alone would wait for a close-ok that never comes.
      const outcome = await Promise.race([
        t.publish(msgs(21, 1)).then(
          () => 'published',
          () => 'failed',
        ),
        sleep(6000, 'still waiting'),
      ]);
      assert.equal(outcome, 'failed');
      proxy.set({ kind: 'pass' });
      await t.publish(msgs(22, 1));
      // evt_21 never reached the broker; the dispatcher would publish it again.
      assert.deepEqual(
        (await drain('bleep-events')).map((m) => m.properties.messageId),
        ['evt_20', 'evt_22'],
      );
      await t.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('webhook target', () => {
  test('POSTs each message in order with an HMAC signature; a non-2xx answer fails the batch', async () => {
    const seen: Array<{ id: string; body: string; ok: boolean }> = [];
    let failNext = false;
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const ts = String(req.headers['x-bleepstore-timestamp']);
        const ok = req.headers['x-bleepstore-signature'] === webhookSignature('s3cret', ts, body);
        seen.push({ id: String(req.headers['x-bleepstore-event-id']), body, ok });
        res.statusCode = failNext ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as { port: number };
    const t = new WebhookTarget({
      name: 'w',
      format: 'aws',
      url: `http://127.0.0.1:${port}/hook`,
      secret: 's3cret',
      timeoutMs: 2000,
    });
    await t.publish(msgs(1, 3));
    assert.deepEqual(
      seen.map((s) => [s.id, s.ok]),
      [
        ['evt_1', true],
        ['evt_2', true],
        ['evt_3', true],
      ],
    );
    failNext = true;
    await assert.rejects(t.publish(msgs(4, 1)), /answered 500/);
    await t.close();
    srv.close();
  });
});
