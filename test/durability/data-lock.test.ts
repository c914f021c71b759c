// One server per data directory (lib/data-lock.ts): a second one refuses to start instead of
// emptying the first one's staging area and sweeping blobs it has not committed yet.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBleepStore } from '../../lib/index.ts';
import { acquireDataLock, DataInUseError } from '../../lib/data-lock.ts';
import { signRequest } from '../helpers/signer.ts';
import { signed } from '../helpers/raw.ts';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { cli } from '../admin/run-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/bleepstore', import.meta.url));

/** Runs bin/bleepstore on `dataDir` to its exit (it must not get as far as serving). */
function startAndExit(dataDir: string): Promise<{ code: number | null; stderr: string; ready: boolean }> {
  const proc = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout.includes('"msg":"ready"')) proc.kill('SIGKILL');
  });
  return new Promise((resolve) =>
    proc.once('exit', (code) => resolve({ code, stderr, ready: stdout.includes('"msg":"ready"') })),
  );
}

/** A server on `<new temp dir>/data`, killed and removed after the test. */
async function serverInTempDir(t: TestContext): Promise<{ dir: string; data: string; srv: ServerProcess }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-lock-'));
  const data = path.join(dir, 'data');
  const srv = await spawnServer(data);
  t.after(async () => {
    await srv.kill9();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, data, srv };
}

test('a second server on the same data directory refuses to start, naming the directory and the first one', async (t) => {
  const { data, srv: first } = await serverInTempDir(t);
  const second = await startAndExit(data);
  assert.equal(second.ready, false, 'the second server served');
  assert.equal(second.code, 2);
  assert.match(
    second.stderr,
    new RegExp(`data directory ${data} is in use by another BleepStore process \\(pid ${first.pid}\\)`),
  );
  assert.match(second.stderr, /--data-dir/);
  assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
  assert.equal((await signed('GET', `${first.url}/`)).status, 200);
});

test('an upload in flight on the first server completes while a second server tries its directory', async (t) => {
  const { data, srv: first } = await serverInTempDir(t);
  assert.equal((await signed('PUT', `${first.url}/locked`)).status, 200);
  const body = randomBytes(4 << 20);
  const url = `${first.url}/locked/in-flight`;
  const headers = signRequest({
    method: 'PUT',
    url,
    headers: { 'content-length': String(body.length) },
    payloadHash: 'UNSIGNED-PAYLOAD',
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
  });
  const { port } = new URL(first.url);
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'PUT',
    path: '/locked/in-flight',
    headers,
    agent: false,
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
  });
  // Half the body is in the first server's staging area when the second one starts.
  req.write(body.subarray(0, body.length / 2));
  await new Promise((r) => setTimeout(r, 300));
  const second = await startAndExit(data);
  assert.equal(second.ready, false, 'the second server served');
  req.end(body.subarray(body.length / 2));
  assert.equal(await answered, 200);
  const got = await signed('GET', url);
  assert.equal(got.status, 200);
  assert.equal(createHash('md5').update(got.body).digest('hex'), createHash('md5').update(body).digest('hex'));
});

test('kill -9 releases the data directory: a new server starts on it at once and serves what was there', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const first = await spawnServer(data);
  assert.equal((await signed('PUT', `${first.url}/kept`)).status, 200);
  await first.kill9();
  const again = await spawnServer(data);
  t.after(() => again.kill9());
  assert.equal((await signed('HEAD', `${again.url}/kept`)).status, 200);
});

test('a second embedded store on the same directory is refused until the first one closes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await createBleepStore({ data_dir: dir, logging: { level: 'error' } });
  await assert.rejects(createBleepStore({ data_dir: dir, logging: { level: 'error' } }), (err: Error) => {
    assert.ok(err instanceof DataInUseError, String(err));
    assert.match(err.message, /in use by another store in this process/);
    return true;
  });
  await a.close();
  const b = await createBleepStore({ data_dir: dir, logging: { level: 'error' } });
  await b.close();
  // The lock is free again: nothing is left held after close().
  acquireDataLock(path.join(dir, 'metadata.db'), '').release();
});

test('meta import refuses a directory a server runs on and changes nothing; export still works beside it', async (t) => {
  const { dir, data, srv } = await serverInTempDir(t);
  assert.equal((await signed('PUT', `${srv.url}/before`)).status, 200);
  const file = path.join(dir, 'meta.json');
  const exported = await cli(['meta', 'export', '--data-dir', data, '--output', file]);
  assert.equal(exported.code, 0, exported.stderr);
  const imported = await cli(['meta', 'import', '--data-dir', data, '--input', file, '--replace']);
  assert.equal(imported.code, 2, imported.stderr);
  assert.match(
    imported.stderr,
    new RegExp(`in use by another BleepStore process \\(pid ${srv.pid}\\).*stop that server before importing`),
  );
  assert.equal((await signed('HEAD', `${srv.url}/before`)).status, 200);
});

test('restore refuses a data directory another process holds, and restores it once free', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'source');
  const store = await createBleepStore({ data_dir: source, logging: { level: 'error' }, buckets: ['kept'] });
  await store.close();
  const backup = path.join(dir, 'backup');
  const made = await cli(['backup', '--out', backup, '--data-dir', source]);
  assert.equal(made.code, 0, made.stderr);
  const target = path.join(dir, 'target');
  const held = acquireDataLock(path.join(target, 'metadata.db'), '');
  const refused = await cli(['restore', '--from', backup, '--data-dir', target]);
  held.release();
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    new RegExp(`data directory ${target} is in use by another BleepStore process \\(pid ${process.pid}\\)`),
  );
  const restored = await cli(['restore', '--from', backup, '--data-dir', target]);
  assert.equal(restored.code, 0, restored.stderr);
});
