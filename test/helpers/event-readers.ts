// Reading what the event targets delivered, from the real brokers: a Redis stream's entries
// and a RabbitMQ queue's messages, as parsed message bodies.
import { createClient } from '@redis/client';
import amqp from 'amqplib';

export type Body = Record<string, unknown>;

/** Every entry of a Redis stream, oldest first (the stream is left as it is). */
export async function redisStream(url: string, stream: string): Promise<Body[]> {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  try {
    const entries = (await c.sendCommand(['XRANGE', stream, '-', '+'])) as Array<[string, string[]]>;
    return entries.map(([, f]) => JSON.parse(f[f.indexOf('body') + 1]!) as Body);
  } finally {
    c.destroy();
  }
}

/** Takes every message now in a RabbitMQ queue (acknowledged, so they are gone after). */
export async function rabbitDrain(url: string, queue: string): Promise<Body[]> {
  const conn = await amqp.connect(url);
  // A later broker stop must not surface as an uncaught 'error' on this closed connection.
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    const out: Body[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.push(JSON.parse(m.content.toString()) as Body);
    }
    return out;
  } finally {
    await conn.close();
  }
}

/** Polls `fn` until `ok` holds or `ms` passed; returns the last value either way. */
export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** [event name, key] of a message in either format (AWS keys are URL-decoded). */
export function nameAndKey(b: Body): [string, string] {
  if (Array.isArray(b.Records)) {
    const r = b.Records[0] as { eventName: string; s3: { object: { key: string } } };
    return [`s3:${r.eventName}`, decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))];
  }
  const d = b.data as { s3_event: string; key?: string };
  return [d.s3_event, d.key ?? ''];
}
