// The worker-thread dispatcher (events.dispatcher: worker) is started again when its thread
// ends. A real server process with a real redis-server target; while writers run, the
// dispatcher's thread is ended from outside over the process's inspector, once by
// process.exit and once by an uncaught exception (what an unhandled 'error' event of a client
// library does). Nothing in the server knows about the test. Afterwards every acknowledged
// write has its event and refused writes have none.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, haveCommand, startRedis } from '../helpers/brokers.ts';
import { type Body, nameAndKey, redisStream } from '../helpers/event-readers.ts';
import { connectInspector, type Inspector, watchInspectorUrl } from '../helpers/inspector.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { signed } from '../helpers/raw.ts';

const BUCKET = 'evrestart';
const STREAM = 'restart:events';
const WORKER_FILE = 'dispatch-worker';
const WRITERS = 4;

test('a dispatcher thread that exits is started again and every acknowledged write still has its event', {
  skip: !haveCommand('redis-server') && 'redis-server is not installed',
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-evrestart-'));
  const redis: Broker = await startRedis();
  let srv: ServerProcess | undefined;
  let inspector: Inspector | undefined;
  try {
    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      'events:\n  dispatcher: worker\n' +
        `queue:\n  enabled: true\n  backend: redis\n  redis:\n    url: ${redis.url}\n    stream_prefix: restart\n`,
    );
    let url: (() => string) | undefined;
    srv = await spawnServer(
      path.join(dir, 'data'),
      ['--config', config],
      (proc) => {
        url = watchInspectorUrl(proc);
      },
      undefined,
      { nodeArgs: ['--inspect=127.0.0.1:0'] },
    );
    inspector = await connectInspector(url!());
    const base = srv.url;
    assert.equal((await signed('PUT', `${base}/${BUCKET}`)).status, 200);

    const acked: string[] = [];
    const refused: string[] = [];
    let serial = 0;
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const n = serial++;
        // Every fifth write is refused (If-Match on a key that does not exist): no event may name it.
        const key = n % 5 === 4 ? `refused-${n}` : `k${n}`;
        const body = Buffer.from(`body of ${key}`);
        const r = await signed('PUT', `${base}/${BUCKET}/${key}`, {
          body,
          headers: {
            'content-length': String(body.length),
            ...(key.startsWith('refused') ? { 'if-match': '"0123456789abcdef0123456789abcdef"' } : {}),
          },
        });
        if (key.startsWith('refused')) {
          assert.ok(r.status >= 400, `conditional PUT ${key} was refused: ${r.status}`);
          refused.push(key);
        } else {
          assert.equal(r.status, 200, `PUT ${key}: ${r.text}`);
          acked.push(key);
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, writer);
    const ackedBeyond = async (n: number) => {
      for (let i = 0; acked.length < n; i++) {
        assert.ok(i < 3000, `writes stalled at ${acked.length}`);
        await sleep(10);
      }
    };

    const seenWorkers = new Set<string>();
    try {
      let thread = await inspector.nextWorker(WORKER_FILE, seenWorkers, 10_000);
      // Two ways a thread ends: process.exit in it, and an exception nobody catches.
      const endings = ['process.exit(70)', "setTimeout(() => { throw new Error('dispatcher thread failure') })"];
      for (const ending of endings) {
        await ackedBeyond(acked.length + 100);
        seenWorkers.add(thread.workerId);
        inspector.evaluateIn(thread, ending);
        // The old thread detaches and a new one (another worker id) attaches ~1 s later.
        thread = await inspector.nextWorker(WORKER_FILE, seenWorkers, 15_000);
      }
      await ackedBeyond(acked.length + 100);
    } finally {
      // Also on a failure, so the writers do not outlive the server (their resets would hide it).
      stop = true;
      await Promise.allSettled(writers);
    }
    await Promise.all(writers);

    const restarts = srv.logs.filter((l) => l.msg === 'event dispatcher thread exited; starting it again');
    assert.deepEqual(
      restarts.map((l) => l.code),
      [70, 1],
      'each ending was seen with its exit code',
    );
    assert.equal(inspector.workers().filter((w) => w.url.includes(WORKER_FILE)).length, 1, 'one dispatcher thread');

    const expected = new Set(acked.map((k) => `s3:ObjectCreated:Put ${k}`));
    let events: Body[] = [];
    for (let waited = 0; waited < 30_000; waited += 200) {
      events = (await redisStream(redis.url, STREAM)).filter((e) => nameAndKey(e)[1] !== '');
      const got = new Set(events.map((e) => nameAndKey(e).join(' ')));
      if ([...expected].every((e) => got.has(e))) break;
      await sleep(200);
    }
    const got = new Set(events.map((e) => nameAndKey(e).join(' ')));
    const lost = [...expected].filter((e) => !got.has(e));
    const phantom = [...got].filter((e) => !expected.has(e));
    const ids = events.map((e) => e.id as string);
    console.log(
      `dispatcher restarts=${restarts.length} acked=${acked.length} refused=${refused.length} events=${events.length} ` +
        `duplicates=${ids.length - new Set(ids).size} lost=${lost.length} phantom=${phantom.length}`,
    );
    assert.deepEqual(lost, [], 'every acknowledged write has its event');
    assert.deepEqual(phantom, [], 'no event for a refused write');
    assert.ok(srv.alive(), 'the server itself kept running');
  } finally {
    inspector?.close();
    await srv?.kill9();
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});
