// Redis Streams target (@redis/client, the Redis project's own client): one XADD per event with
// approximate MAXLEN trimming, and a consumer group created up front so consumers can
// XREADGROUP/XACK from the first event on. https://redis.io/docs/latest/develop/data-types/streams/
import type { EventFormat } from '../format.ts';
import { type EventTarget, type TargetMessage, withTimeout } from './target.ts';

export interface RedisTargetOptions {
  name: string;
  format: EventFormat;
  url: string;
  stream: string;
  consumerGroup: string;
  maxLen: number;
  timeoutMs: number;
}

type RedisClient = {
  connect(): Promise<unknown>;
  destroy(): void;
  sendCommand(args: string[]): Promise<unknown>;
  on(event: 'error', fn: (err: Error) => void): unknown;
  isReady: boolean;
};

export class RedisTarget implements EventTarget {
  readonly name: string;
  readonly format: EventFormat;
  #client: RedisClient | undefined;
  readonly #o: RedisTargetOptions;

  constructor(o: RedisTargetOptions) {
    this.name = o.name;
    this.format = o.format;
    this.#o = o;
  }

  async #connect(): Promise<RedisClient> {
    if (this.#client?.isReady) return this.#client;
    this.#client?.destroy();
    this.#client = undefined;
    const { createClient } = await import('@redis/client');
    // No offline queue and no automatic reconnect: a command fails at once while Redis is
    // away, and the dispatcher's back-off decides when to try again.
    const client = createClient({
      url: this.#o.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: this.#o.timeoutMs, reconnectStrategy: false },
      // No per-command timer: node-redis 5+ arms an AbortSignal.timeout for every command by
      // default (a timer, listeners and a FinalizationRegistry entry per XADD); publish()
      // bounds the whole batch with one timeout instead.
      commandOptions: { timeout: 0 },
    }) as unknown as RedisClient;
    client.on('error', () => {});
    try {
      await withTimeout(client.connect(), this.#o.timeoutMs, `connecting to Redis target "${this.name}"`);
      await client
        .sendCommand(['XGROUP', 'CREATE', this.#o.stream, this.#o.consumerGroup, '$', 'MKSTREAM'])
        .catch((err: Error) => {
          if (!/BUSYGROUP/.test(err.message)) throw err;
        });
    } catch (err) {
      client.destroy();
      throw err;
    }
    this.#client = client;
    return client;
  }

  async publish(messages: readonly TargetMessage[]): Promise<void> {
    const client = await this.#connect();
    const trim = this.#o.maxLen > 0 ? ['MAXLEN', '~', String(this.#o.maxLen)] : [];
    // node-redis pipelines commands issued together; each reply is the confirmation.
    const replies = messages.map((m) =>
      client.sendCommand([
        'XADD',
        this.#o.stream,
        ...trim,
        '*',
        'id',
        m.id,
        'type',
        m.type,
        'key',
        m.partitionKey,
        'body',
        m.body,
      ]),
    );
    try {
      await withTimeout(Promise.all(replies), this.#o.timeoutMs, `XADD to Redis target "${this.name}"`);
    } catch (err) {
      this.#client?.destroy();
      this.#client = undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    this.#client = undefined;
  }
}
