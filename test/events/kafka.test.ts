// The Kafka target against a live broker, only when BLEEPSTORE_TEST_KAFKA names one
// (host:port): no Kafka broker installs from Debian or npm on the project's machines, so in
// CI this is skipped and the target is listed in STATUS.md as not verified.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { KafkaTarget } from '../../lib/events/targets/kafka.ts';

const BROKER = process.env.BLEEPSTORE_TEST_KAFKA;

interface KafkaModule {
  Consumer: new (
    o: object,
  ) => {
    consume(
      o: object,
    ): Promise<AsyncIterable<{ key: string; value: string; topic: string }> & { close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
  stringDeserializers: object;
  MessagesStreamModes: { EARLIEST: string };
}

test('Kafka target: acks=all messages keyed bucket/key reach their topic in order', {
  skip: !BROKER && 'BLEEPSTORE_TEST_KAFKA is not set (no Kafka broker here)',
  timeout: 60_000,
}, async () => {
  const topic = `bleepstore-test-${randomUUID().slice(0, 8)}`;
  const t = new KafkaTarget({
    name: 'k',
    format: 'bleepstore',
    brokers: [BROKER!],
    topic,
    topicPerType: false,
    timeoutMs: 10_000,
  });
  const msgs = [1, 2, 3].map((n) => ({
    id: `evt_${n}`,
    type: 'object.created',
    partitionKey: 'b/k',
    body: JSON.stringify({ n }),
  }));
  await t.publish(msgs);
  await t.close();
  const pkg = '@platformatic/kafka';
  const kafka = (await import(pkg)) as KafkaModule;
  const consumer = new kafka.Consumer({
    groupId: `g-${topic}`,
    clientId: 'bleepstore-test',
    bootstrapBrokers: [BROKER!],
    deserializers: kafka.stringDeserializers,
  });
  const stream = await consumer.consume({ topics: [topic], mode: kafka.MessagesStreamModes.EARLIEST });
  const got: Array<{ key: string; value: string }> = [];
  for await (const m of stream) {
    got.push({ key: m.key, value: m.value });
    if (got.length === 3) break;
  }
  await stream.close();
  await consumer.close(true);
  assert.deepEqual(
    got.map((m) => [m.key, JSON.parse(m.value).n]),
    [
      ['b/k', 1],
      ['b/k', 2],
      ['b/k', 3],
    ],
  );
});
