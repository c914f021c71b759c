// Kafka target (@platformatic/kafka: maintained, pure JavaScript, no native addon). It is an
// optional peer dependency, imported only when a Kafka target is configured. Topic per event
// type (`<prefix>.object.created`) or one topic; the message key is bucket/key, so the events of
// one object land in one partition, in order; acks=all (-1) waits for every in-sync replica.
// NOT VERIFIED against a live broker here: no Kafka broker installs from Debian or npm on these
// machines. test/events/kafka.test.ts runs when BLEEPSTORE_TEST_KAFKA names one.
import type { EventFormat } from '../format.ts';
import { type EventTarget, type TargetMessage, withTimeout } from './target.ts';

export interface KafkaTargetOptions {
  name: string;
  format: EventFormat;
  brokers: string[];
  /** Topic prefix; with `topicPerType` false every event goes to this one topic. */
  topic: string;
  topicPerType: boolean;
  timeoutMs: number;
}

interface KafkaProducer {
  send(o: {
    messages: Array<{ topic: string; key: string; value: string; headers?: Record<string, string> }>;
    acks?: number;
  }): Promise<unknown>;
  close(): Promise<void>;
}

export class KafkaTarget implements EventTarget {
  readonly name: string;
  readonly format: EventFormat;
  readonly #o: KafkaTargetOptions;
  #producer: KafkaProducer | undefined;

  constructor(o: KafkaTargetOptions) {
    this.name = o.name;
    this.format = o.format;
    this.#o = o;
  }

  async #open(): Promise<KafkaProducer> {
    if (this.#producer) return this.#producer;
    const pkg = '@platformatic/kafka';
    let mod: { Producer: new (o: object) => KafkaProducer; stringSerializers: object };
    try {
      mod = (await import(pkg)) as typeof mod;
    } catch {
      throw new Error(
        `Kafka target "${this.name}" needs the package @platformatic/kafka: npm install @platformatic/kafka`,
      );
    }
    this.#producer = new mod.Producer({
      clientId: `bleepstore-${this.name}`,
      bootstrapBrokers: this.#o.brokers,
      serializers: mod.stringSerializers,
      connectTimeout: this.#o.timeoutMs,
      acks: -1,
    });
    return this.#producer;
  }

  async publish(messages: readonly TargetMessage[]): Promise<void> {
    const producer = await this.#open();
    const o = this.#o;
    const batch = messages.map((m) => ({
      topic: o.topicPerType ? `${o.topic}.${m.type}` : o.topic,
      key: m.partitionKey,
      value: m.body,
      headers: { 'x-bleepstore-event-id': m.id },
    }));
    try {
      await withTimeout(
        producer.send({ messages: batch, acks: -1 }),
        o.timeoutMs,
        `send to Kafka target "${this.name}"`,
      );
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = undefined;
    await p?.close().catch(() => {});
  }
}
