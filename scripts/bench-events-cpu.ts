// CPU per PUT of the metadata store plus event delivery, without HTTP: object.put commands
// with an event stamp, 16 per commit at a steady RATE, through the real startEvents (outbox
// rows, dispatcher, target, deletions) to a real broker, until the outbox is empty; against
// the same run with no target. The whole process's CPU (every thread) per PUT, so the figure
// is what events cost our process, with far less noise than the HTTP bench (no client, no
// HTTP parsing). With BASE=<checkout> that checkout's modules run too, interleaved (A/B).
//   node scripts/bench-events-cpu.ts    TARGET=rabbitmq|redis DISPATCHER=main|worker N=30000 RATE=3000 ROUNDS=5
//   LINGER=<ms> sets events.linger_ms (default 10)
//   SINGLE=none|events node --cpu-prof scripts/bench-events-cpu.ts   one phase only, for a profile
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, ConfigInput } from '../lib/config.ts';
import type { RunningEvents } from '../lib/events/start.ts';
import type { Logger } from '../lib/ops/log.ts';
import { type Broker, startRabbit, startRedis } from '../test/helpers/brokers.ts';
import { createBucket, putObject } from './bench-commands.ts';

const N = Number(process.env.N ?? 30_000);
const RATE = Number(process.env.RATE ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TARGET = process.env.TARGET ?? 'rabbitmq';
const DISPATCHER = process.env.DISPATCHER ?? 'main';
const BASE = process.env.BASE;
const SINGLE = process.env.SINGLE;
const LINGER = process.env.LINGER;
const GROUP = 16;

interface Store {
  submit(c: unknown): Promise<unknown>;
  outbox(): { depth(t: string): { rows: number } };
  close(): void;
}
interface Build {
  loadConfig(s: { overrides: ConfigInput }): Config;
  MetadataStore: new (o: Record<string, unknown>) => Store;
  startEvents(c: Config, m: Store, l: Logger): RunningEvents | undefined;
  createLogger(o: { level: string; format: string }): Logger;
}

async function load(root: string): Promise<Build> {
  const at = (f: string) => import(path.join(root, f));
  const [config, sqlite, start, log] = await Promise.all([
    at('lib/config.ts'),
    at('lib/metadata/sqlite.ts'),
    at('lib/events/start.ts'),
    at('lib/ops/log.ts'),
  ]);
  return { ...config, ...sqlite, ...start, ...log } as Build;
}

/** CPU µs per PUT from the first command until the outbox is empty. */
async function run(b: Build, broker: Broker | undefined, n: number, tag: string): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-events-cpu-'));
  const target =
    TARGET === 'redis'
      ? { backend: 'redis', redis: { url: broker?.url, stream_prefix: tag } }
      : { backend: 'rabbitmq', rabbitmq: { url: broker?.url, exchange: tag, queue_prefix: tag } };
  const config = b.loadConfig({
    overrides: {
      data_dir: dir,
      ...(broker
        ? {
            queue: { enabled: true, ...target },
            events: { dispatcher: DISPATCHER, ...(LINGER ? { linger_ms: Number(LINGER) } : {}) },
          }
        : {}),
    } as unknown as ConfigInput,
  });
  const store = new b.MetadataStore({
    path: path.join(dir, 'm.db'),
    durability: 'off',
    eventTargets: config.events.targets.map((t) => t.name),
  });
  const events = b.startEvents(config, store, b.createLogger({ level: 'silent', format: 'json' }));
  try {
    await store.submit(createBucket('b'));
    await sleep(500); // the target connects, the worker starts
    const t0 = process.cpuUsage();
    const start = performance.now();
    for (let g = 0; g < n / GROUP; g++) {
      // Paced like a server taking RATE PUTs per second, 16 at a time.
      const due = start + ((g * GROUP) / RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      await Promise.all(Array.from({ length: GROUP }, (_, i) => store.submit(putObject('b', `k-${g}-${i}`, !!broker))));
    }
    for (let i = 0; broker && config.events.targets.some((t) => store.outbox().depth(t.name).rows); i++) {
      if (i === 3000)
        throw new Error(`the outbox did not drain within 30 s: ${JSON.stringify(events?.dispatcher.status())}`);
      await sleep(10);
    }
    const u = process.cpuUsage(t0);
    if (SINGLE) console.log(`user ${(u.user / n).toFixed(1)} µs/PUT, system ${(u.system / n).toFixed(1)}`);
    return (u.user + u.system) / n;
  } finally {
    await events?.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const broker = TARGET === 'redis' ? await startRedis() : await startRabbit();
try {
  const builds: Array<[string, Build]> = [['this', await load(path.resolve(import.meta.dirname, '..'))]];
  if (BASE) builds.push(['base', await load(path.resolve(BASE))]);
  if (SINGLE) {
    const us = await run(builds[0]![1], SINGLE === 'none' ? undefined : broker, N, 'single');
    console.log(`${SINGLE}: ${us.toFixed(1)} µs CPU per PUT`);
  } else await compare(builds);
} finally {
  await broker.destroy();
}

async function compare(builds: Array<[string, Build]>): Promise<void> {
  const extra = new Map<string, number[]>(builds.map(([name]) => [name, []]));
  for (const [name, b] of builds) {
    await run(b, undefined, 4000, `warm-${name}-none`);
    await run(b, broker, 4000, `warm-${name}`);
  }
  console.log(`${TARGET}, dispatcher ${DISPATCHER}, ${N} PUTs at ${RATE}/s per phase`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, b] of r % 2 ? builds : [...builds].reverse()) {
      const none = await run(b, undefined, N, `r${r}-${name}-none`);
      const ev = await run(b, broker, N, `r${r}-${name}`);
      extra.get(name)!.push(ev - none);
      console.log(
        `round ${r} ${name.padEnd(4)} none ${none.toFixed(1)} µs/PUT, ${TARGET} ${ev.toFixed(1)} (+${(ev - none).toFixed(1)})`,
      );
    }
  }
  for (const [name, list] of extra)
    console.log(
      `${name.padEnd(4)} events add ${median(list).toFixed(1)} µs CPU per PUT (median; ${list.map((v) => v.toFixed(1)).join(', ')})`,
    );
}
