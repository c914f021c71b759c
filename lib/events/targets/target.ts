// What every event destination implements. A target publishes messages in the order given and
// resolves only once the destination has confirmed all of them (Redis XADD reply, RabbitMQ
// publisher confirm, Kafka acks=all, HTTP 2xx); any failure rejects and the dispatcher retries
// the same batch later, so a destination sees at-least-once delivery with stable ids.
import type { EventFormat } from '../format.ts';

export interface TargetMessage {
  /** The event id (evt_...), also sent as the message id where the protocol has one. */
  id: string;
  /** The spec's dot-separated type, used as routing key or topic suffix. */
  type: string;
  /** bucket/key: the partitioning key, so events of one object stay in order. */
  partitionKey: string;
  body: string;
}

export interface EventTarget {
  readonly name: string;
  readonly format: EventFormat;
  publish(messages: readonly TargetMessage[]): Promise<void>;
  /**
   * Messages the destination dead-lettered (consumers rejected them), as last counted, where
   * it has such a place (RabbitMQ); asking may start a fresh count in the background.
   */
  deadLetters?(): number | undefined;
  /** Closes connections; publish may reconnect afterwards. */
  close(): Promise<void>;
}

/** Rejects with a readable error if `p` has not settled after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
