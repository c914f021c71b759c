// RabbitMQ target (amqplib, the maintained AMQP 0-9-1 client): a durable topic exchange, a
// durable queue bound to it with a dead-letter exchange, persistent messages routed by event
// type, and publisher confirms: publish resolves only after the broker has confirmed every
// message. https://www.rabbitmq.com/docs/confirms#publisher-confirms
import type { Socket } from 'node:net';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { EventFormat } from '../format.ts';
import { type EventTarget, type TargetMessage, withTimeout } from './target.ts';

export interface RabbitTargetOptions {
  name: string;
  format: EventFormat;
  url: string;
  exchange: string;
  exchangeType: 'topic' | 'direct' | 'fanout';
  /** Durable queue bound to the exchange with '#', so events are kept until someone consumes them. */
  queue: string;
  timeoutMs: number;
}

const DEAD_LETTER_REFRESH_MS = 5000;

export class RabbitTarget implements EventTarget {
  readonly name: string;
  readonly format: EventFormat;
  #conn: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  readonly #o: RabbitTargetOptions;
  #deadLetters: number | undefined;
  #deadLettersAt = Number.NEGATIVE_INFINITY;

  constructor(o: RabbitTargetOptions) {
    this.name = o.name;
    this.format = o.format;
    this.#o = o;
  }

  async #open(): Promise<ConfirmChannel> {
    if (this.#channel) return this.#channel;
    const amqp = await import('amqplib');
    const o = this.#o;
    const connecting = amqp.connect(o.url, { timeout: o.timeoutMs });
    let conn: ChannelModel;
    try {
      conn = await withTimeout(connecting, o.timeoutMs, `connecting to RabbitMQ target "${this.name}"`);
    } catch (err) {
      // amqplib's own timeout is for a silent socket; a slow handshake can still open later. That
      // connection is nobody's: without an 'error' listener its first socket error would be
      // thrown (an EventEmitter rule) and end the server.
      connecting.then(
        (late) => {
          late.on('error', () => {});
          void closeWithin(late, o.timeoutMs);
        },
        () => {},
      );
      throw err;
    }
    const drop = () => {
      if (this.#conn === conn) {
        this.#conn = undefined;
        this.#channel = undefined;
      }
    };
    conn.on('error', drop);
    conn.on('close', drop);
    try {
      const ch = await conn.createConfirmChannel();
      ch.on('error', drop);
      ch.on('close', drop);
      const dlx = `${o.exchange}.dead-letter`;
      await ch.assertExchange(o.exchange, o.exchangeType, { durable: true });
      await ch.assertExchange(dlx, 'fanout', { durable: true });
      await ch.assertQueue(`${o.queue}.dead-letter`, { durable: true });
      await ch.bindQueue(`${o.queue}.dead-letter`, dlx, '');
      if (o.queue) {
        await ch.assertQueue(o.queue, { durable: true, deadLetterExchange: dlx });
        await ch.bindQueue(o.queue, o.exchange, o.exchangeType === 'topic' ? '#' : '');
      }
      this.#conn = conn;
      this.#channel = ch;
      return ch;
    } catch (err) {
      await closeWithin(conn, o.timeoutMs);
      throw err;
    }
  }

  async publish(messages: readonly TargetMessage[]): Promise<void> {
    const ch = await this.#open();
    // One callback for the batch instead of waitForConfirms(), which makes a promise per
    // unconfirmed message. amqplib calls it once per message: null on ack, an error on nack
    // or when the channel closes with the message unconfirmed.
    let confirm!: (err: Error | null) => void;
    const confirmed = new Promise<void>((resolve, reject) => {
      let left = messages.length;
      confirm = (err) => {
        if (err) reject(err);
        else if (--left === 0) resolve();
      };
      if (!left) resolve();
    });
    // A publish that throws leaves earlier messages to fail later, with nobody awaiting.
    confirmed.catch(() => {});
    try {
      // No custom headers: amqplib encodes a headers table per message at ~10 us of CPU
      // (scripts/bench-rabbit-publish.ts: 28 -> 17 us per event without it); the bucket and
      // key are in the body, the event type is the routing key and the `type` property.
      for (const m of messages) {
        ch.publish(
          this.#o.exchange,
          m.type,
          Buffer.from(m.body),
          {
            persistent: true,
            messageId: m.id,
            contentType: 'application/json',
            type: m.type,
          },
          confirm,
        );
      }
      await withTimeout(confirmed, this.#o.timeoutMs, `confirms from RabbitMQ target "${this.name}"`);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** The dead-letter queue's depth, counted again (passive declare) at most every 5 s. */
  deadLetters(): number | undefined {
    const ch = this.#channel;
    if (ch && performance.now() - this.#deadLettersAt >= DEAD_LETTER_REFRESH_MS) {
      this.#deadLettersAt = performance.now();
      ch.checkQueue(`${this.#o.queue}.dead-letter`).then(
        (q) => (this.#deadLetters = q.messageCount),
        () => {},
      );
    }
    return this.#deadLetters;
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#channel = undefined;
    if (conn) await closeWithin(conn, this.#o.timeoutMs);
  }
}

/**
 * Closes `conn`, waiting at most `ms` for the broker's close-ok. amqplib's close() never settles
 * when the broker sends no close-ok (hung; or killed mid-close: then only 'close' fires), and a
 * failed publish closes its connection, so a hung broker stopped the target's dispatch loop for
 * good. Past `ms` the socket is destroyed with an error, which amqplib handles as a reset.
 */
async function closeWithin(conn: ChannelModel, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  const closing = conn.close().then(
    () => false,
    () => false,
  );
  if (await Promise.race([closing, timedOut])) {
    // Not in amqplib's types: the connection's socket (lib/connection.js `stream`).
    const socket = (conn.connection as unknown as { stream?: Socket }).stream;
    socket?.destroy(new Error(`RabbitMQ sent no close-ok within ${ms} ms`));
  }
  clearTimeout(timer);
}
