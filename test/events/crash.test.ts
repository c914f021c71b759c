// kill -9 of a real server process at random moments during concurrent writes, while the
// event target (a real redis-server) is up, down, and flapping: afterwards every committed
// write has at least one event, and no event exists for a write that did not commit. A write
// whose response was lost in the kill counts as committed only if the store shows it.
// Every key is written once and deleted at most once, so its events name exactly one write.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { type Body, nameAndKey, redisStream } from '../helpers/event-readers.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { type RawResponse, signed } from '../helpers/raw.ts';

const KILLS_PER_PHASE = Number(process.env.EVENT_CRASH_KILLS ?? 4);
const WRITERS = 6;
const BUCKET = 'evcrash';
const STREAM = 'crash:events';

type Fate = 'acked' | 'unknown';
interface KeyLog {
  put?: Fate;
  del?: Fate;
}

function req(base: string, method: string, key: string, body?: Buffer): Promise<RawResponse> {
  return signed(method, `${base}/${BUCKET}${key ? `/${key}` : ''}`, {
    body,
    headers: { 'content-length': String(body?.length ?? 0) },
  });
}

test('kill -9 while the broker is up, down and flapping loses no event and invents none', {
  skip: !haveCommand('redis-server') && 'redis-server is not installed',
  timeout: 180_000,
}, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-evcrash-'));
  const redis: Broker = await startRedis();
  const configFile = path.join(dataDir, 'config.yaml');
  // Each restart alternates where the dispatcher runs (events.dispatcher: main, then worker).
  const writeConfig = (dispatcher: 'main' | 'worker') =>
    writeFile(
      configFile,
      `events:\n  dispatcher: ${dispatcher}\n` +
        `queue:\n  enabled: true\n  backend: redis\n  redis:\n    url: ${redis.url}\n    stream_prefix: crash\n`,
    );
  const keys = new Map<string, KeyLog>();
  const counts = { kills: 0, puts: 0, deletes: 0, unacked: 0 };
  let srv: ServerProcess | undefined;
  let redisUp = true;
  let serial = 0;
  try {
    let starts = 0;
    const start = async () => {
      await writeConfig(starts++ % 2 ? 'worker' : 'main');
      return spawnServer(path.join(dataDir, 'data'), ['--config', configFile]);
    };
    srv = await start();
    assert.equal((await req(srv.url, 'PUT', '')).status, 200);

    async function writer(base: string, stop: () => boolean): Promise<void> {
      while (!stop()) {
        const deletable = [...keys.entries()].filter(([, l]) => l.put === 'acked' && !l.del);
        if (deletable.length && randomInt(4) === 0) {
          const [key, log] = deletable[randomInt(deletable.length)]!;
          log.del = 'unknown';
          const r = await req(base, 'DELETE', key).catch(() => undefined);
          if (!r) return;
          assert.equal(r.status, 204, `DELETE ${key}: ${r.text}`);
          log.del = 'acked';
          counts.deletes++;
        } else {
          const key = `k${serial++}`;
          const log: KeyLog = { put: 'unknown' };
          keys.set(key, log);
          const r = await req(base, 'PUT', key, Buffer.from(`body of ${key}`)).catch(() => undefined);
          if (!r) return;
          assert.equal(r.status, 200, `PUT ${key}: ${r.text}`);
          log.put = 'acked';
          counts.puts++;
        }
      }
    }

    async function killCycles(phase: string, flap: boolean): Promise<void> {
      for (let i = 0; i < KILLS_PER_PHASE; i++) {
        srv ??= await start();
        let stopped = false;
        const writers = Array.from({ length: WRITERS }, () => writer(srv!.url, () => stopped));
        const flapping = (async () => {
          while (flap && !stopped) {
            await sleep(randomInt(50, 250));
            if (stopped) break;
            if (redisUp) await redis.stop();
            else await redis.start();
            redisUp = !redisUp;
          }
        })();
        await sleep(randomInt(150, 700));
        await srv.kill9();
        srv = undefined;
        counts.kills++;
        stopped = true;
        await Promise.all([...writers, flapping]);
      }
      console.log(`${phase}: ${counts.kills} kills so far`);
    }

    await killCycles('broker up', false);
    await redis.stop();
    redisUp = false;
    await killCycles('broker down', false);
    await killCycles('broker flapping', true);
    if (!redisUp) await redis.start();
    redisUp = true;
    srv = await start();

    // Writes whose responses were lost: the store says whether they committed.
    for (const [key, log] of keys) {
      if (log.put === 'unknown') {
        counts.unacked++;
        const head = await req(srv.url, 'HEAD', key);
        if (head.status === 200) log.put = 'acked';
        else delete log.put;
      }
      if (log.del === 'unknown') {
        counts.unacked++;
        const head = await req(srv.url, 'HEAD', key);
        if (head.status === 404) log.del = 'acked';
        else delete log.del;
      }
    }
    const committed = new Set<string>();
    for (const [key, log] of keys) {
      if (log.put) committed.add(`s3:ObjectCreated:Put ${key}`);
      if (log.del) committed.add(`s3:ObjectRemoved:Delete ${key}`);
    }
    const seen = (events: Body[]) => new Set(events.map((e) => nameAndKey(e).join(' ')));
    let events: Body[] = [];
    for (let waited = 0; waited < 60_000; waited += 200) {
      events = await redisStream(redis.url, STREAM);
      const s = seen(events);
      if ([...committed].every((c) => s.has(c))) break;
      await sleep(200);
    }
    const objectEvents = events.filter((e) => nameAndKey(e)[1] !== '');
    const got = seen(objectEvents);
    const lost = [...committed].filter((c) => !got.has(c));
    const phantom = [...got].filter((c) => !committed.has(c));
    const ids = objectEvents.map((e) => e.id as string);
    const duplicates = ids.length - new Set(ids).size;
    // A duplicate is a redelivery: same id, same content.
    const byId = new Map(objectEvents.map((e) => [e.id as string, JSON.stringify(e)]));
    for (const e of objectEvents) assert.equal(JSON.stringify(e), byId.get(e.id as string));
    console.log(
      `event crash: kills=${counts.kills} writes=${committed.size} (acked puts=${counts.puts} deletes=${counts.deletes}, ` +
        `unacknowledged=${counts.unacked}) events=${objectEvents.length} duplicates=${duplicates} lost=${lost.length} phantom=${phantom.length}`,
    );
    assert.ok(counts.puts > 20, 'the run wrote something');
    assert.deepEqual(lost, [], 'every committed write has an event');
    assert.deepEqual(phantom, [], 'no event for a write that did not commit');
  } finally {
    await srv?.kill9();
    await redis.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
});
