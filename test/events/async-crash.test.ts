// kill -9 of a real server process right after it answered many concurrent async PUTs with
// 202: after a restart every acknowledged task is done exactly once (the object reads back with
// its bytes; with a redis-server installed, each write has one event, redelivered at most with
// the same id), none is lost.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { nameAndKey, redisStream } from '../helpers/event-readers.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { send, signed } from '../helpers/raw.ts';

const ROUNDS = 3;
const WRITERS = 16;
/** The server is killed as soon as this many PUTs of the round were acknowledged. */
const ACKS_PER_ROUND = 120;
const BUCKET = 'acrash';

interface Acked {
  key: string;
  id: string;
  body: Buffer;
}

test('kill -9 right after async 202s: every acknowledged task completes exactly once after restart', {
  timeout: 120_000,
}, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-acrash-'));
  const redis: Broker | undefined = haveCommand('redis-server') ? await startRedis() : undefined;
  const configFile = path.join(dataDir, 'config.yaml');
  await writeFile(
    configFile,
    redis
      ? `queue:\n  enabled: true\n  backend: redis\n  consistency: async\n  redis:\n    url: ${redis.url}\n    stream_prefix: acrash\n`
      : 'events:\n  consistency: async\n',
  );
  const start = () => spawnServer(path.join(dataDir, 'data'), ['--config', configFile]);
  const acked: Acked[] = [];
  let srv: ServerProcess | undefined;
  let serial = 0;
  let pendingAtRestart = 0;
  try {
    srv = await start();
    assert.equal((await signed('PUT', `${srv.url}/${BUCKET}`, { headers: { 'content-length': '0' } })).status, 200);
    for (let round = 0; round < ROUNDS; round++) {
      const base = srv.url;
      let roundAcks = 0;
      let killed: Promise<void> | undefined;
      const writer = async (): Promise<void> => {
        while (!killed) {
          const key = `r${round}-k${serial++}`;
          const body = randomBytes(serial % 3 ? 64 * 1024 : 200);
          const r = await signed('PUT', `${base}/${BUCKET}/${key}`, {
            body,
            headers: { 'content-length': String(body.length) },
          }).catch(() => undefined);
          if (!r) return;
          assert.equal(r.status, 202, `PUT ${key}: ${r.text}`);
          acked.push({ key, id: r.headers['x-bleepstore-task-id'] as string, body });
          if (++roundAcks >= ACKS_PER_ROUND) killed ??= srv!.kill9();
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, writer));
      await killed;
      srv = await start();
      const applied = srv.logs.find((l) => l.msg === 'pending write tasks applied');
      pendingAtRestart += Number(applied?.tasks ?? 0);
    }

    let completed = 0;
    const lost: string[] = [];
    for (const a of acked) {
      const t = await send('GET', `${srv.url}/_bleepstore/tasks/${a.id}`, {});
      const state = t.status === 200 ? (JSON.parse(t.text) as { state: string }).state : `HTTP ${t.status}`;
      const got = await signed('GET', `${srv.url}/${BUCKET}/${a.key}`);
      if (state === 'done' && got.status === 200 && got.body.equals(a.body)) completed++;
      else lost.push(`${a.key}: task ${state}, GET ${got.status}`);
    }
    let events = 'no redis-server: events not checked';
    if (redis) {
      const keys = new Set(acked.map((a) => a.key));
      let stream: Array<Record<string, unknown>> = [];
      for (let waited = 0; waited < 30_000; waited += 200) {
        stream = (await redisStream(redis.url, 'acrash:events')).filter((e) => keys.has(nameAndKey(e)[1]));
        if (new Set(stream.map((e) => nameAndKey(e)[1])).size >= keys.size) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const idsByKey = new Map<string, Set<string>>();
      for (const e of stream) {
        const k = nameAndKey(e)[1];
        idsByKey.set(k, (idsByKey.get(k) ?? new Set()).add(e.id as string));
      }
      const missing = [...keys].filter((k) => !idsByKey.has(k));
      const twice = [...idsByKey].filter(([, ids]) => ids.size > 1).map(([k]) => k);
      events = `events=${stream.length} duplicates=${stream.length - idsByKey.size} missing=${missing.length}`;
      assert.deepEqual(missing, [], 'every acknowledged write has its event');
      assert.deepEqual(twice, [], 'a write applied once has one event id (duplicates are redeliveries)');
    }
    console.log(
      `async crash: kills=${ROUNDS} acked=${acked.length} pending at restart=${pendingAtRestart} completed=${completed} lost=${lost.length} ${events}`,
    );
    assert.deepEqual(lost.slice(0, 10), [], 'every acknowledged task completed');
    assert.equal(completed, acked.length);
    assert.ok(pendingAtRestart > 0, 'some kill came while acknowledged tasks were still pending');
  } finally {
    await srv?.kill9();
    await redis?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
});
