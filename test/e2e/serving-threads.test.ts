// server.workers > 1 (`--workers N`): several threads accept on the S3 port, the main thread is
// the one metadata writer. Real bin/bleepstore processes on real sockets; every request below
// opens its own connection, so the kernel spreads them over the threads at random.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { signed, send } from '../helpers/raw.ts';
import { signRequest } from '../helpers/signer.ts';
import { refusedUploads } from '../helpers/refused-upload.ts';
import { ACCESS_KEY, BACKEND, REGION, SECRET_KEY } from '../helpers/server.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { createBleepStore, ConfigError } from '../../lib/index.ts';
import { waitFor, waitForAsync } from '../ops/wait.ts';
import { connectInspector, watchInspectorUrl } from '../helpers/inspector.ts';

// These start bin/bleepstore on the local backend themselves: a run of the S3 suites per
// backend (npm run test:backends) would only repeat them.
const ON_LOCAL =
  BACKEND === 'local' ? {} : { skip: `starts local-backend processes itself; this run is for the ${BACKEND} backend` };

const md5 = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;

/** The thread that served a request: its request id's per-thread random prefix. */
function threadsThatServed(srv: ServerProcess): Set<string> {
  return new Set(
    srv.logs
      .filter((l) => l.msg === 'request completed' && typeof l.op === 'string' && !String(l.op).startsWith('/'))
      .map((l) => String(l.request_id).slice(0, 8)),
  );
}

/** A signed request on a given keep-alive connection (an agent of one socket). */
function signedOn(
  agent: http.Agent,
  method: string,
  url: string,
  body?: Buffer,
): Promise<{ status: number; thread: string }> {
  const headers = signRequest({ method, url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: REGION, body });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode!, thread: String(res.headers['x-amz-request-id']).slice(0, 8) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Keep-alive connections: one on the main thread (the writer) and two on a serving thread (the
 * kernel chose at accept). /health is always answered by the main thread: its request id
 * names that thread.
 */
async function connectionsOnTwoThreads(base: string): Promise<[http.Agent, http.Agent, http.Agent]> {
  const main = String((await send('GET', `${base}/health`, {})).headers['x-amz-request-id']).slice(0, 8);
  const onMain: http.Agent[] = [];
  const onOther: http.Agent[] = [];
  for (let i = 0; i < 64; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { thread } = await signedOn(agent, 'GET', `${base}/`);
    (thread === main ? onMain : onOther).push(agent);
    if (onMain.length >= 1 && onOther.length >= 2) return [onMain[0]!, onOther[0]!, onOther[1]!];
  }
  throw new Error(`of 64 connections ${onMain.length} landed on the main thread, ${onOther.length} elsewhere`);
}

async function withServer(args: string[], fn: (srv: ServerProcess, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-threads-'));
  const srv = await spawnServer(path.join(dir, 'data'), args);
  try {
    await fn(srv, dir);
  } finally {
    if (srv.alive()) await srv.kill9();
    await rm(dir, { recursive: true, force: true });
  }
}

test(
  'with --workers 2 both threads serve S3 requests, and a write answered by one is read by the next request on any',
  ON_LOCAL,
  async () => {
    await withServer(['--workers', '2'], async (srv) => {
      const base = srv.url;
      assert.equal((await signed('PUT', `${base}/threads`)).status, 200);
      let checked = 0;
      for (let i = 0; i < 60; i++) {
        const body = randomBytes(i % 3 === 0 ? 300_000 : 100 + i); // blobs and inline rows
        const put = await signed('PUT', `${base}/threads/k${i}`, { body });
        assert.equal(put.status, 200, put.text);
        assert.equal(put.headers.etag, md5(body));
        const got = await signed('GET', `${base}/threads/k${i}`);
        assert.equal(got.status, 200, got.text);
        assert.ok(got.body.equals(body), `k${i}: the next request read other bytes`);
        assert.equal((await signed('DELETE', `${base}/threads/k${i}`)).status, 204);
        assert.equal((await signed('HEAD', `${base}/threads/k${i}`)).status, 404, `k${i} came back after its DELETE`);
        checked++;
      }
      // Bucket rows are cached per thread: a change answered by one thread is seen by the very
      // next request on another, even while that one keeps reading the same bucket.
      const [a, b1, b2] = await connectionsOnTwoThreads(base);
      let current = '';
      let hammering = true;
      const hammer = (async () => {
        while (hammering)
          if (current) await signedOn(b1, 'HEAD', `${base}/${current}`);
          else await new Promise((r) => setImmediate(r));
      })();
      try {
        for (let i = 0; i < 40; i++) {
          current = `b-${i}`;
          await new Promise((r) => setTimeout(r, 2));
          assert.equal((await signedOn(a, 'PUT', `${base}/b-${i}`)).status, 200);
          assert.equal(
            (await signedOn(b2, 'HEAD', `${base}/b-${i}`)).status,
            200,
            `bucket b-${i} missing after its PUT`,
          );
          assert.equal((await signedOn(a, 'DELETE', `${base}/b-${i}`)).status, 204);
          assert.equal(
            (await signedOn(b2, 'HEAD', `${base}/b-${i}`)).status,
            404,
            `bucket b-${i} still there after its DELETE`,
          );
        }
      } finally {
        hammering = false;
        await hammer;
      }
      await waitFor(() => threadsThatServed(srv).size === 2, 'requests served by two threads', 5000);
      console.log(`# objects checked across threads: ${checked}; threads that served: ${threadsThatServed(srv).size}`);
      assert.deepEqual(srv.troubles(), []);
    });
  },
);

test(
  'with --workers 2 unsigned requests (health, metrics) are answered whichever thread accepts them, and metrics count every thread',
  ON_LOCAL,
  async () => {
    await withServer(['--workers', '2'], async (srv) => {
      const base = srv.url;
      await signed('PUT', `${base}/counted`);
      for (let i = 0; i < 40; i++) await signed('PUT', `${base}/counted/k${i}`, { body: Buffer.from(`v${i}`) });
      await waitFor(() => threadsThatServed(srv).size === 2, 'requests served by two threads', 5000);
      for (let i = 0; i < 20; i++) assert.equal((await send('GET', `${base}/health`, {})).status, 200);
      // Records reach the main thread's registry once per turn of the serving thread's loop.
      const putsCounted = async (): Promise<number> => {
        const text = (await send('GET', `${base}/metrics`, {})).text;
        let n = 0;
        for (const m of text.matchAll(/^bleepstore_s3_operations_total\{[^}]*operation="PutObject"[^}]*\} (\d+)/gm))
          n += Number(m[1]);
        return n;
      };
      await waitForAsync(async () => (await putsCounted()) >= 40, 'PutObject counted 40 times', 5000);
      assert.equal(await putsCounted(), 40);
      assert.ok(
        srv.logs.every((l) => typeof l.msg === 'string'),
        'every log line of both threads is whole JSON',
      );
      // Handed-over requests keep the client's address (in the log and in event records).
      for (let i = 0; i < 20; i++) assert.equal((await send('GET', `${base}/counted/k${i}`, {})).status, 403);
      const anonymous = () => srv.logs.filter((l) => l.op === 'GetObject' && l.status === 403);
      await waitFor(() => anonymous().length >= 20, '20 anonymous GETs logged', 5000);
      const addresses = new Set(anonymous().map((l) => l.client_address));
      assert.deepEqual([...addresses], ['127.0.0.1']);
      // The main thread's private socket answers serving threads only (its name is public in
      // /proc/net/unix): a request without the hand-over secret is refused.
      const name = readFileSync('/proc/net/unix', 'utf8').match(new RegExp(`@(bleepstore-${srv.pid}-[0-9a-f]+)`))?.[1];
      assert.ok(name, 'the private socket is listed');
      const status = await new Promise<number>((resolve, reject) =>
        http
          .get(
            { socketPath: `\0${name}`, path: '/health', headers: { 'x-bleepstore-client-address': '10.9.9.9' } },
            (r) => {
              r.resume();
              resolve(r.statusCode!);
            },
          )
          .on('error', reject),
      );
      assert.equal(status, 403);
    });
  },
);

test('with --workers 2 a refused upload handed to the main thread answers 403, never 503', ON_LOCAL, async () => {
  await withServer(['--workers', '2'], async (srv) => {
    await signed('PUT', `${srv.url}/refused`);
    // The serving thread hands these to the main thread, which refuses them and closes.
    const { statuses, errors } = await refusedUploads(`${srv.url}/refused/anon`, 1000, 1);
    const unavailable = statuses.filter((s) => s === 503).length;
    console.log(
      `# refused uploads via a serving thread: ${statuses.length} answered, ${unavailable} of them 503, ${errors.length} errors`,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(new Set(statuses), new Set([403]));
  });
});

test('with --workers 2 every acknowledged PUT survives kill -9 under concurrent writers', ON_LOCAL, async () => {
  await withServer(['--workers', '2'], async (srv, dir) => {
    const base = srv.url;
    await signed('PUT', `${base}/crash`);
    const acked = new Map<string, string>();
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        const body = randomBytes(i % 4 === 0 ? 200_000 : 512);
        try {
          const r = await signed('PUT', `${base}/crash/${key}`, { body });
          if (r.status === 200) acked.set(key, md5(body));
        } catch {
          return; // the server is gone
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await srv.kill9();
    await Promise.all(writers);
    const again = await spawnServer(path.join(dir, 'data'), ['--workers', '2']);
    try {
      let lost = 0;
      for (const [key, etag] of acked) {
        const r = await signed('GET', `${again.url}/crash/${key}`);
        if (r.status !== 200 || md5(r.body) !== etag) lost++;
      }
      console.log(`# kill -9 with two serving threads: acknowledged=${acked.size} lost=${lost}`);
      assert.ok(acked.size > 50, `only ${acked.size} PUTs were acknowledged`);
      assert.equal(lost, 0);
    } finally {
      await again.kill9();
    }
  });
});

// A thread that dies would leave the port half served (its connections reset, the kernel still
// sending new ones to its listener until it closes): the server stops whole, exit status 70 as
// for any fatal storage error, and the next start recovers (crash-only).
for (const ending of ['process.exit(3)', "setTimeout(() => { throw new Error('serving thread failure') })"])
  test(
    `a serving thread that ends (${ending.startsWith('process') ? 'exit' : 'uncaught exception'}) stops the whole server with status 70`,
    ON_LOCAL,
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-threads-'));
      let url: (() => string) | undefined;
      const srv = await spawnServer(
        path.join(dir, 'data'),
        ['--workers', '2'],
        (proc) => {
          url = watchInspectorUrl(proc);
        },
        undefined,
        { nodeArgs: ['--inspect=127.0.0.1:0'] },
      );
      const inspector = await connectInspector(url!());
      try {
        const thread = await inspector.nextWorker('serve-worker', new Set(), 10_000);
        inspector.evaluateIn(thread, ending);
        await waitFor(
          () => !inspector.workers().some((w) => w.workerId === thread.workerId),
          'the thread to end',
          10_000,
        );
        inspector.close(); // an attached debugger would hold the exiting process open
        const exit = await Promise.race([srv.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
        assert.equal(exit, 70);
        assert.ok(
          srv.logs.some((l) => l.level === 'error' && /serving thread 1/.test(JSON.stringify(l))),
          'the log names the thread that failed',
        );
      } finally {
        inspector.close();
        if (srv.alive()) await srv.kill9();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

test('SIGTERM with --workers 2 lets both threads finish and the process exits 0', ON_LOCAL, async () => {
  await withServer(['--workers', '2'], async (srv) => {
    await signed('PUT', `${srv.url}/term`);
    for (let i = 0; i < 10; i++) await signed('PUT', `${srv.url}/term/k${i}`, { body: Buffer.from('x') });
    srv.proc.kill('SIGTERM');
    assert.equal(await srv.exited, 0);
  });
});

test('server.workers above 1 refuses what it cannot serve, naming the key', ON_LOCAL, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-threads-'));
  try {
    await assert.rejects(
      createBleepStore({ storage: 'memory', server: { workers: 2 } }),
      (e: Error) => e instanceof ConfigError && /"storage\.backend" is "memory".*server\.workers/.test(e.message),
    );
    await assert.rejects(
      createBleepStore({
        data_dir: dir,
        server: { workers: 2 },
        events: { consistency: 'async', targets: [{ name: 'w', type: 'webhook', url: 'http://127.0.0.1:1/' }] },
      } as never),
      (e: Error) => e instanceof ConfigError && /"events\.consistency" is "async"/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  "an embedded store with server.workers 2 serves, sends the threads' log lines to logWrite and closes",
  ON_LOCAL,
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-threads-'));
    const lines: string[] = [];
    const store = await createBleepStore({
      data_dir: dir,
      server: { workers: 2 },
      logging: { level: 'info' },
      logWrite: (line) => lines.push(line),
    });
    try {
      const { url } = await store.listen(0, '127.0.0.1');
      await signed('PUT', `${url}/embedded`);
      for (let i = 0; i < 30; i++) {
        const body = Buffer.from(`e${i}`);
        assert.equal((await signed('PUT', `${url}/embedded/k${i}`, { body })).status, 200);
        assert.equal((await signed('GET', `${url}/embedded/k${i}`)).text, `e${i}`);
      }
      const prefixes = () =>
        new Set(
          lines
            .filter((l) => l.includes('"request completed"'))
            .map((l) => (JSON.parse(l) as { request_id: string }).request_id.slice(0, 8)),
        );
      await waitFor(() => prefixes().size === 2, 'log lines from both threads through logWrite', 5000);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test("the project's e2e suites pass against a server with two serving threads (run_e2e.sh)", {
  timeout: 300_000,
  ...ON_LOCAL,
}, async () => {
  const script = path.resolve(import.meta.dirname, '../../run_e2e.sh');
  const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(
      'bash',
      [script],
      { timeout: 280_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BLEEPSTORE_E2E_ARGS: '--workers 2' } },
      (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout }),
    ),
  );
  const count = (what: string) => Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(out.stdout)?.[1] ?? -1);
  console.log(`# e2e suites against --workers 2: pass=${count('pass')} fail=${count('fail')}`);
  assert.equal(out.code, 0, out.stdout.slice(-4000));
  assert.equal(count('fail'), 0);
  assert.ok(count('pass') >= 70, `only ${count('pass')} e2e tests passed`);
});
