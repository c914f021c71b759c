// CPU per event of the RabbitMQ target's publish alone (amqplib encoding, socket writes,
// confirm handling), against a real rabbitmq-server: what the dispatcher's thread spends per
// event on the client, without HTTP or SQLite. Batches of BATCH events of the size the
// server renders (BleepStore format, ~600 B), one batch in flight, as the dispatcher does.
// With BASE=<checkout> that checkout's target runs too, interleaved round by round (an A/B
// within one run; the broker's load is the same for both).
//   node scripts/bench-rabbit-publish.ts        N=20000 BATCH=100 ROUNDS=5
import path from 'node:path';
import type { EventTarget, TargetMessage } from '../lib/events/targets/target.ts';
import { startRabbit } from '../test/helpers/brokers.ts';

const N = Number(process.env.N ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BASE = process.env.BASE;

type Make = (o: Record<string, unknown>) => EventTarget;
async function load(root: string): Promise<Make> {
  const mod = (await import(path.join(root, 'lib/events/targets/rabbitmq.ts'))) as {
    RabbitTarget: new (o: Record<string, unknown>) => EventTarget;
  };
  return (o) => new mod.RabbitTarget(o);
}

const body = (i: number): string =>
  JSON.stringify({
    specversion: '1.0',
    id: `evt_${String(i).padStart(16, '0')}`,
    source: 'bench-host',
    type: 'com.bleepstore.object.created',
    time: new Date(1_700_000_000_000 + i).toISOString(),
    data: {
      s3_event: 's3:ObjectCreated:Put',
      bucket: 'bench-bucket',
      key: `put-1KiB-c16/${i.toString(36)}-${'x'.repeat(24)}`,
      size: 1024,
      etag: '0f343b0931126a20f133d67c2b018a3b',
      region: 'us-east-1',
      request_id: 'A1B2C3D40000001A',
      principal: 'a1b2c3d4'.repeat(8),
      bucket_owner: 'a1b2c3d4'.repeat(8),
      source_ip: '127.0.0.1',
    },
  });

async function run(make: Make, url: string, name: string): Promise<number> {
  const t = make({
    name,
    format: 'bleepstore',
    url,
    exchange: `bench-${name}`,
    exchangeType: 'topic',
    queue: `bench-${name}`,
    timeoutMs: 30_000,
  });
  const batches: TargetMessage[][] = [];
  for (let b = 0; b < N / BATCH; b++)
    batches.push(
      Array.from({ length: BATCH }, (_, j) => {
        const i = b * BATCH + j;
        return { id: `evt_${i}`, type: 'object.created', partitionKey: `bench-bucket/k${i}`, body: body(i) };
      }),
    );
  await t.publish(batches[0]!.slice(0, 1)); // connect and declare outside the measurement
  const t0 = process.cpuUsage();
  for (const b of batches) await t.publish(b);
  const cpu = process.cpuUsage(t0);
  await t.close();
  return (cpu.user + cpu.system) / N;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rabbit = await startRabbit();
try {
  const variants: Array<[string, Make]> = [['this', await load(path.resolve(import.meta.dirname, '..'))]];
  if (BASE) variants.push(['base', await load(path.resolve(BASE))]);
  const us = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 ? variants : [...variants].reverse();
    for (const [n, make] of order) {
      const v = await run(make, rabbit.url, `${n}-${r}`);
      us.get(n)!.push(v);
      console.log(`round ${r} ${n.padEnd(5)} ${v.toFixed(1)} µs CPU per event`);
    }
  }
  for (const [n, list] of us)
    console.log(
      `${n.padEnd(5)} median ${median(list).toFixed(1)} µs/event (${list.map((v) => v.toFixed(1)).join(', ')})`,
    );
} finally {
  await rabbit.destroy();
}
