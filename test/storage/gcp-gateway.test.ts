// The gcp gateway without a GCS emulator: none runs here (firebase-tools' Storage emulator needs
// Java 21 and a rules jar fetched from outside the npm registry, and has no compose;
// fake-gcs-server is a Go binary in neither npm nor Debian).
// What can be checked honestly: the configuration the SDK gets, and the real SDK's requests
// and error handling against a stub HTTP server that answers only what each test names
// (GCS JSON API error bodies, a listing page, a compose result), or against a dead port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBleepStore } from '../../lib/index.ts';
import { FileMissingError } from '../../lib/storage/backend.ts';
import { GatewayStorage } from '../../lib/storage/gateway.ts';
import { createGcsBucket, storageOptions } from '../../lib/storage/gcp.ts';
import { S3Error } from '../../lib/s3/errors.ts';
import { deadPort } from '../helpers/net.ts';

const ID = '0123456789abcdef0123456789abcdef';
const BASE = { bucket: 'bkt', project: '', prefix: 'gw/', credentials_file: '', endpoint_url: '' };

interface Seen {
  method: string;
  path: string;
  body: string;
}
type Answer = { status: number; body?: unknown };

interface Stub {
  url: string;
  seen: Seen[];
  answer: (r: Seen) => Answer;
  close(): Promise<void>;
}

async function startStub(): Promise<Stub> {
  const stub = { seen: [] as Seen[], answer: (_r: Seen): Answer => ({ status: 500 }) } as Stub;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method!, path: req.url!, body: Buffer.concat(chunks).toString() };
      stub.seen.push(seen);
      const a = stub.answer(seen);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  stub.close = () => new Promise((resolve) => srv.close(() => resolve()));
  return stub;
}

const gcsError = (code: number, message: string): Answer => ({
  status: code,
  body: { error: { code, message, errors: [{ message, reason: code === 404 ? 'notFound' : 'backendError' }] } },
});

describe('gcp configuration', () => {
  test('project, credentials file and endpoint reach the SDK, and unset ones are left to its defaults', () => {
    const full = storageOptions({
      ...BASE,
      project: 'p1',
      credentials_file: '/etc/key.json',
      endpoint_url: 'http://127.0.0.1:4443',
    });
    assert.equal(full.projectId, 'p1');
    assert.equal(full.keyFilename, '/etc/key.json');
    assert.equal(full.apiEndpoint, 'http://127.0.0.1:4443');
    const bare = storageOptions(BASE);
    for (const k of ['projectId', 'keyFilename', 'apiEndpoint'] as const)
      assert.ok(!(k in bare), `${k} set without config`);
  });
});

describe('gcp gateway against a stub', () => {
  let stub: Stub;
  let staging: string;
  let gw: GatewayStorage;

  before(async () => {
    stub = await startStub();
    staging = await mkdtemp(path.join(tmpdir(), 'bleepstore-gcp-'));
    gw = new GatewayStorage('gcp', createGcsBucket({ ...BASE, endpoint_url: stub.url }), {
      prefix: BASE.prefix,
      stagingDir: staging,
    });
  });
  after(async () => {
    await stub.close();
    await rm(staging, { recursive: true, force: true });
  });

  test('a blob is read as the object <prefix><id> in the bucket, and a 404 becomes FileMissingError naming the id', async () => {
    stub.seen.length = 0;
    stub.answer = () => gcsError(404, `No such object: bkt/gw/${ID}`);
    await assert.rejects(
      gw.openRead(ID, { start: 5, end: 9 }),
      (err) => err instanceof FileMissingError && err.fileId === ID,
    );
    assert.equal(stub.seen.length, 1);
    assert.equal(stub.seen[0]!.method, 'GET');
    assert.match(stub.seen[0]!.path, new RegExp(`^/storage/v1/b/bkt/o/gw%2F${ID}\\?alt=media`));
  });

  test('an upstream 503 on a read is ServiceUnavailable and the process survives it', async () => {
    stub.answer = () => gcsError(503, 'Backend Error');
    await assert.rejects(gw.openRead(ID), (err) => err instanceof S3Error && err.code === 'ServiceUnavailable');
    // The SDK's retried streaming read used to throw where nothing could catch it; give any
    // such stray exception a moment to kill this process.
    await new Promise((r) => setTimeout(r, 300));
  });

  test('an upstream 503 on an upload, in one request or resumable, is ServiceUnavailable', async () => {
    stub.answer = () => gcsError(503, 'Backend Error');
    for (const size of [1000, 9 * 1024 * 1024]) {
      const staged = await gw.stage();
      staged.push(Buffer.alloc(size, 1));
      await staged.finish();
      await assert.rejects(
        staged.commit(),
        (err) => err instanceof S3Error && err.code === 'ServiceUnavailable',
        `${size} bytes`,
      );
    }
  });

  test('exists and remove of a missing object are false and quiet', async () => {
    stub.answer = () => gcsError(404, 'No such object');
    assert.equal(await gw.exists(ID), false);
    await gw.remove(ID);
  });

  test('listing follows page tokens to the end', async () => {
    stub.seen.length = 0;
    stub.answer = (r) =>
      r.path.includes('pageToken=p2')
        ? { status: 200, body: { kind: 'storage#objects', items: [{ name: 'gw/c' }] } }
        : {
            status: 200,
            body: { kind: 'storage#objects', items: [{ name: 'gw/a' }, { name: 'gw/b' }], nextPageToken: 'p2' },
          };
    const bucket = createGcsBucket({ ...BASE, endpoint_url: stub.url });
    const got: string[] = [];
    for await (const n of bucket.list('gw/')) got.push(n.key);
    assert.deepEqual(got, ['gw/a', 'gw/b', 'gw/c']);
    assert.equal(stub.seen.length, 2);
    assert.ok(stub.seen.every((s) => s.path.includes('prefix=gw%2F')));
  });

  test('a compose of 40 parts is two calls through one temporary under the prefix, which is then deleted', async () => {
    stub.seen.length = 0;
    stub.answer = (r) =>
      r.method === 'DELETE'
        ? { status: 204 }
        : { status: 200, body: { kind: 'storage#object', bucket: 'bkt', name: 'x' } };
    const sources = Array.from({ length: 40 }, (_, i) => `gw/part${i}`);
    await createGcsBucket({ ...BASE, endpoint_url: stub.url }).compose!('gw/final', sources);
    const composes = stub.seen.filter((s) => s.path.includes('/compose'));
    assert.equal(composes.length, 2);
    const temp = /\/o\/(gw%2F[0-9a-f]{32})\/compose/.exec(composes[0]!.path)?.[1];
    assert.ok(temp, `first compose writes a blob-named temporary: ${composes[0]!.path}`);
    const first = JSON.parse(composes[0]!.body) as { sourceObjects: Array<{ name: string }> };
    assert.deepEqual(
      first.sourceObjects.map((o) => o.name),
      sources.slice(0, 9),
    );
    assert.match(composes[1]!.path, /\/o\/gw%2Ffinal\/compose/);
    const second = JSON.parse(composes[1]!.body) as { sourceObjects: Array<{ name: string }> };
    assert.deepEqual(
      second.sourceObjects.map((o) => o.name),
      [decodeURIComponent(temp), ...sources.slice(9)],
    );
    const deletes = stub.seen.filter((s) => s.method === 'DELETE');
    assert.deepEqual(
      deletes.map((d) => d.path.split('?')[0]),
      [`/storage/v1/b/bkt/o/${temp}`],
    );
  });

  test('a start against a missing bucket stops with one sentence naming it', async () => {
    stub.answer = () => gcsError(404, 'The specified bucket does not exist.');
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-gcp-'));
    try {
      await assert.rejects(
        createBleepStore({
          overrides: {
            data_dir: dataDir,
            logging: { level: 'silent' },
            storage: { backend: 'gcp', gcp: { bucket: 'bkt', endpoint_url: stub.url } },
          },
        }),
        (err: Error) =>
          err.name === 'ConfigError' &&
          err.message === 'The gcp storage backend is not usable: the bucket "bkt" does not exist',
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

test('an unreachable GCS endpoint is ServiceUnavailable', async () => {
  const staging = await mkdtemp(path.join(tmpdir(), 'bleepstore-gcp-'));
  try {
    const gw = new GatewayStorage(
      'gcp',
      createGcsBucket({ ...BASE, endpoint_url: `http://127.0.0.1:${await deadPort()}` }),
      { prefix: BASE.prefix, stagingDir: staging },
    );
    await assert.rejects(gw.openRead(ID), (err) => err instanceof S3Error && err.code === 'ServiceUnavailable');
    await assert.rejects(gw.probe(), (err) => err instanceof S3Error && err.code === 'ServiceUnavailable');
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
});
