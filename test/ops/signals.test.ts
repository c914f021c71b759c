// The real process: bin/bleepstore as a child, stopped with SIGTERM / SIGINT while an upload
// is in flight, then started again on the same data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, bodyBytes } from '../helpers/server.ts';
import { signRequest } from '../helpers/signer.ts';
import { waitFor } from './wait.ts';

const BIN = new URL('../../bin/bleepstore', import.meta.url).pathname;

interface Child {
  proc: ChildProcess;
  url: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function spawnServer(dataDir: string, grace: string): Promise<Child> {
  const proc = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir, '--shutdown-grace', grace], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      lines.push({ text: l });
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  const ready = await waitFor(() => lines.find((l) => l.msg === 'ready'), 'the ready line', 10_000);
  return { proc, url: ready.url as string, lines, exited };
}

function client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
}

/** A signed PUT whose body the test writes piece by piece. */
function slowPut(url: string, key: string, length: number) {
  const target = `${url}/sig/${key}`;
  const headers = signRequest({
    method: 'PUT',
    url: target,
    headers: { 'content-length': String(length) },
    payloadHash: 'UNSIGNED-PAYLOAD',
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
  });
  const req = http.request(target, { method: 'PUT', headers, agent: false });
  const result = new Promise<{ status?: number; error?: string }>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
  return { req, result };
}

async function withData(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-signals-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function setUp(url: string): Promise<S3Client> {
  const c = client(url);
  await c.send(new CreateBucketCommand({ Bucket: 'sig' }));
  await c.send(new PutObjectCommand({ Bucket: 'sig', Key: 'acknowledged', Body: 'kept' }));
  return c;
}

async function read(c: S3Client, key: string): Promise<string | undefined> {
  try {
    return (await bodyBytes((await c.send(new GetObjectCommand({ Bucket: 'sig', Key: key }))).Body)).toString();
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

test('SIGTERM lets an upload in flight finish, refuses new connections, exits, and the next start serves everything acknowledged', async (t) => {
  const dataDir = await withData(t);
  const first = await spawnServer(dataDir, '5');
  t.after(() => first.proc.kill('SIGKILL'));
  const c = await setUp(first.url); // leaves an idle keep-alive connection open, which must not hold the stop
  const listening = first.lines.find((l) => l.msg === 'listening');
  assert.equal(listening?.address, '127.0.0.1');
  assert.equal(typeof listening?.version, 'string');
  assert.equal(listening?.durability, 'full');
  assert.equal(listening?.data_dir, dataDir);
  assert.equal(
    first.lines.find((l) => l.msg === 'recovery done')?.temp_files_removed,
    0,
    'start-up states the recovery done',
  );

  const piece = Buffer.alloc(64 * 1024, 'a');
  const put = slowPut(first.url, 'slow', piece.length * 4);
  put.req.write(piece);
  await sleep(150);
  const signalled = performance.now();
  first.proc.kill('SIGTERM');
  await waitFor(
    () => first.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('stopping')),
    'the stopping line',
  );
  await assert.rejects(fetch(`${first.url}/healthz`), 'no new connections once stopping');
  for (let i = 0; i < 3; i++) {
    await sleep(150);
    put.req.write(piece);
  }
  put.req.end();
  assert.deepEqual(await put.result, { status: 200 });
  const exit = await first.exited;
  assert.equal(exit.code, 0);
  assert.ok(
    exit.at - signalled < 3000,
    `exited ${Math.round(exit.at - signalled)} ms after SIGTERM, as soon as the upload was done`,
  );
  c.destroy();

  const second = await spawnServer(dataDir, '5');
  t.after(() => second.proc.kill('SIGKILL'));
  const c2 = client(second.url);
  t.after(() => c2.destroy());
  assert.deepEqual(await readdir(path.join(dataDir, 'objects', '.tmp')), []);
  assert.equal(await read(c2, 'acknowledged'), 'kept');
  assert.equal((await read(c2, 'slow'))?.length, piece.length * 4);
  second.proc.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
});

test('an upload that outlasts the grace period is cut, the process exits in bounded time, and the next start recovers', async (t) => {
  const dataDir = await withData(t);
  const first = await spawnServer(dataDir, '1');
  t.after(() => first.proc.kill('SIGKILL'));
  const c = await setUp(first.url);
  c.destroy();

  const put = slowPut(first.url, 'stalled', 1024 * 1024);
  put.req.write(Buffer.alloc(128 * 1024, 'b'));
  await sleep(150);
  const signalled = performance.now();
  first.proc.kill('SIGTERM');
  const outcome = await put.result;
  assert.ok(
    outcome.error !== undefined || (outcome.status ?? 0) >= 400,
    `the cut upload fails (${JSON.stringify(outcome)})`,
  );
  const exit = await first.exited;
  assert.equal(exit.code, 0);
  const took = exit.at - signalled;
  assert.ok(took >= 900 && took < 3000, `exited ${Math.round(took)} ms after SIGTERM (grace 1 s)`);
  const cut = first.lines.find((l) => l.msg === 'request completed' && l.key === 'stalled');
  assert.equal(cut?.aborted, true, 'the cut request is logged before exit');

  const second = await spawnServer(dataDir, '1');
  t.after(() => second.proc.kill('SIGKILL'));
  const c2 = client(second.url);
  t.after(() => c2.destroy());
  assert.deepEqual(await readdir(path.join(dataDir, 'objects', '.tmp')), [], 'no temp file survives the restart');
  assert.equal(await read(c2, 'stalled'), undefined, 'the interrupted key is absent');
  assert.equal(await read(c2, 'acknowledged'), 'kept');
  second.proc.kill('SIGTERM');
  await second.exited;
});

for (const [first, second, code] of [
  ['SIGTERM', 'SIGINT', 130],
  ['SIGINT', 'SIGTERM', 143],
] as const) {
  test(`a second signal (${first} then ${second}) exits at once`, async (t) => {
    const dataDir = await withData(t);
    const child = await spawnServer(dataDir, '30');
    t.after(() => child.proc.kill('SIGKILL'));
    await setUp(child.url).then((c) => c.destroy());

    const put = slowPut(child.url, 'held', 1024 * 1024);
    put.req.write(Buffer.alloc(1024, 'c'));
    await sleep(150);
    child.proc.kill(first);
    await waitFor(
      () => child.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('stopping')),
      'the stopping line',
    );
    await sleep(200);
    assert.equal(child.proc.exitCode, null, 'the first signal waits for the upload');
    const signalled = performance.now();
    child.proc.kill(second);
    const exit = await child.exited;
    assert.equal(exit.code, code);
    assert.ok(exit.at - signalled < 1000, `exited ${Math.round(exit.at - signalled)} ms after the second signal`);
    await put.result;
  });
}
