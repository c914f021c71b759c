// Memory stays flat while a 1 GiB object streams through the azure gateway both ways, and
// while a multipart Complete stages its parts as blocks (through the gateway, since Azurite
// has no Put Block From URL; 2 parts of 256 MiB, each far larger than the allowed growth). The gateway runs as its own process
// (bin/bleepstore --config FILE) over Azurite, and its RSS is read from /proc.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { azureStorage, startAzurite, type Azurite } from '../helpers/backend-azure.ts';
import { send } from '../helpers/raw.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { GiB, MiB, RssWatch, downloadCounted, signedFor, uploadGenerated } from '../helpers/memory-probe.ts';

const PART = 256 * MiB;
// Staging a part copies every byte twice (a download from the upstream piped into an upload
// to it), so twice the garbage waits for V8's external-memory GC: 61 MiB alone, 100 MiB once
// in CI beside another test file. Still well under one part (256 MiB): a buffered part fails.
const STAGING_GROWTH = 128 * MiB;

let az: Azurite;
let gateway: ServerProcess;
let dir: string;
let rss: RssWatch;

const signed = (method: string, pathAndQuery: string, headers: Record<string, string> = {}) =>
  signedFor(gateway.url, method, pathAndQuery, headers);
const upload = (method: string, pathAndQuery: string, size: number, md5?: Hash) =>
  uploadGenerated(gateway.url, method, pathAndQuery, size, md5);
const download = (pathAndQuery: string) => downloadCounted(gateway.url, pathAndQuery);
const checkGrowth = (what: string) => rss.assertFlat(what);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-azure-memory-'));
  az = await startAzurite();
  const config = path.join(dir, 'gateway.yaml');
  await writeFile(config, JSON.stringify({ storage: azureStorage(az) })); // JSON is YAML
  gateway = await spawnServer(path.join(dir, 'data'), ['--config', config, '--durability', 'normal']);
  assert.equal((await send('PUT', `${gateway.url}/mem`, signed('PUT', '/mem').headers)).status, 200);
  // Warm the code paths up so the baseline includes compiled code and the SDK's pools.
  await upload('PUT', '/mem/warm', 8 * MiB);
  await download('/mem/warm');
  rss = new RssWatch(gateway.pid);
  rss.start();
});

after(async () => {
  rss?.stop();
  await gateway?.kill9();
  await az?.kill();
  await rm(dir, { recursive: true, force: true });
});

let putMd5 = '';

test('a 1 GiB PUT through the azure gateway keeps its memory flat', { timeout: 120_000 }, async () => {
  const md5 = createHash('md5');
  const r = await upload('PUT', '/mem/one-gib', GiB, md5);
  assert.equal(r.status, 200);
  putMd5 = md5.digest('hex');
  assert.equal(r.etag, `"${putMd5}"`);
  checkGrowth('azure PUT 1 GiB');
});

test('a 1 GiB GET through the azure gateway streams with flat memory and the same bytes', {
  timeout: 120_000,
}, async () => {
  const got = await download('/mem/one-gib');
  assert.equal(got.status, 200);
  assert.equal(got.size, GiB);
  assert.equal(got.md5, putMd5);
  checkGrowth('azure GET 1 GiB');
});

test('a 512 MiB multipart Complete stages its parts as blocks with flat memory', { timeout: 180_000 }, async () => {
  const created = await send('POST', `${gateway.url}/mem/mpu?uploads`, signed('POST', '/mem/mpu?uploads').headers);
  const uploadId = encodeURIComponent(/<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!);
  const whole = createHash('md5');
  const etags: string[] = [];
  for (let n = 1; n <= 2; n++) {
    const r = await upload('PUT', `/mem/mpu?partNumber=${n}&uploadId=${uploadId}`, PART, whole);
    assert.equal(r.status, 200);
    etags.push(r.etag);
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const { headers } = signed('POST', `/mem/mpu?uploadId=${uploadId}`, {
    'content-length': String(Buffer.byteLength(xml)),
  });
  const done = await send('POST', `${gateway.url}/mem/mpu?uploadId=${uploadId}`, headers, xml);
  assert.equal(done.status, 200, done.text);
  assert.doesNotMatch(done.text, /<Error>/);
  rss.assertFlat('azure multipart 512 MiB', STAGING_GROWTH);
  const got = await download('/mem/mpu');
  assert.equal(got.size, 2 * PART);
  assert.equal(got.md5, whole.digest('hex'));
});
