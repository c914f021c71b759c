// Memory must not grow with object size: a 1 GiB single PUT, a 1 GiB multipart upload and
// its Complete, and a 1 GiB GET, against the real server process, with RSS read from /proc.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { send } from '../helpers/raw.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import {
  GiB,
  MiB,
  RssWatch,
  downloadCounted,
  postGenerated,
  signedFor,
  uploadGenerated,
} from '../helpers/memory-probe.ts';

let srv: ServerProcess;
let dataDir: string;
let rss: RssWatch;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-memory-'));
  srv = await spawnServer(dataDir);
  const r = await send('PUT', `${srv.url}/mem-bucket`, signedFor(srv.url, 'PUT', '/mem-bucket').headers);
  assert.equal(r.status, 200);
  // Warm up each path with a 64 MiB object so the baseline includes compiled code and the
  // allocator's steady state: what is asserted is growth with object size (64 MiB → 1 GiB).
  await uploadGenerated(srv.url, 'PUT', '/mem-bucket/warm', 64 * MiB);
  await downloadCounted(srv.url, '/mem-bucket/warm');
  const pub = signedFor(srv.url, 'PUT', '/mem-public', { 'x-amz-acl': 'public-read-write' });
  assert.equal((await send('PUT', `${srv.url}/mem-public`, pub.headers)).status, 200);
  await postGenerated(srv.url, 'mem-public', 'warm', 64 * MiB);
  rss = new RssWatch(srv.pid);
  rss.start();
});

after(async () => {
  rss.stop();
  await srv.kill9();
  await rm(dataDir, { recursive: true, force: true });
});

test('a 1 GiB single PUT does not grow the server RSS by more than a few tens of MiB', {
  timeout: 120_000,
}, async () => {
  const r = await uploadGenerated(srv.url, 'PUT', '/mem-bucket/one-gib', GiB);
  assert.equal(r.status, 200);
  assert.equal(r.etag, `"${r.md5}"`);
  rss.assertFlat('single PUT 1 GiB');
});

test('a 1 GiB GET streams with flat memory', { timeout: 120_000 }, async () => {
  const got = await downloadCounted(srv.url, '/mem-bucket/one-gib');
  assert.equal(got.status, 200);
  assert.equal(got.size, GiB);
  rss.assertFlat('GET 1 GiB');
});

test('a 1 GiB multipart upload and its Complete keep memory flat', { timeout: 180_000 }, async () => {
  const created = await send(
    'POST',
    `${srv.url}/mem-bucket/mpu?uploads`,
    signedFor(srv.url, 'POST', '/mem-bucket/mpu?uploads').headers,
  );
  const uploadId = encodeURIComponent(/<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!);
  const parts: string[] = [];
  for (let n = 1; n <= 4; n++) {
    const r = await uploadGenerated(srv.url, 'PUT', `/mem-bucket/mpu?partNumber=${n}&uploadId=${uploadId}`, GiB / 4);
    assert.equal(r.status, 200);
    parts.push(r.etag);
  }
  const xml = `<CompleteMultipartUpload>${parts.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const { headers } = signedFor(srv.url, 'POST', `/mem-bucket/mpu?uploadId=${uploadId}`, {
    'content-length': String(Buffer.byteLength(xml)),
  });
  const done = await send('POST', `${srv.url}/mem-bucket/mpu?uploadId=${uploadId}`, headers, xml);
  assert.equal(done.status, 200);
  assert.match(done.text, /<ETag>&quot;[0-9a-f]{32}-4&quot;<\/ETag>|<ETag>"[0-9a-f]{32}-4"<\/ETag>/);
  rss.assertFlat('multipart 1 GiB');
});

test('a 512 MiB browser upload (POST Object) streams its file part with flat memory', {
  timeout: 120_000,
}, async () => {
  const posted = await postGenerated(srv.url, 'mem-public', 'posted', GiB / 2);
  assert.equal(posted.status, 204);
  assert.equal(posted.etag, `"${posted.md5}"`);
  rss.assertFlat('POST Object 512 MiB');
});
