// One target object per configured target.
import type { TargetConfig } from '../config.ts';
import { KafkaTarget } from './kafka.ts';
import { RabbitTarget } from './rabbitmq.ts';
import { RedisTarget } from './redis.ts';
import type { EventTarget } from './target.ts';
import { WebhookTarget } from './webhook.ts';

export function createTarget(t: TargetConfig): EventTarget {
  const base = { name: t.name, format: t.format, timeoutMs: t.timeout_ms };
  switch (t.type) {
    case 'redis':
      return new RedisTarget({
        ...base,
        url: t.url,
        stream: t.redis.stream,
        consumerGroup: t.redis.consumer_group,
        maxLen: t.redis.max_len,
      });
    case 'rabbitmq':
      return new RabbitTarget({
        ...base,
        url: t.url,
        exchange: t.rabbitmq.exchange,
        exchangeType: t.rabbitmq.exchange_type,
        queue: t.rabbitmq.queue,
      });
    case 'kafka':
      return new KafkaTarget({
        ...base,
        brokers: t.kafka.brokers,
        topic: t.kafka.topic,
        topicPerType: t.kafka.topic_per_type,
      });
    case 'webhook':
      return new WebhookTarget({ ...base, url: t.url, secret: t.webhook.secret });
  }
}
