// Big bodies are hashed on a hashing thread (lib/body/hash-offload.ts): the digests must be
// exactly node:crypto's for every size and chunking, every promise the request made must still
// be checked, and a failed body must leave nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { hashBacklog, OffloadedHashes } from '../../lib/body/hash-offload.ts';
import { ingest, OFFLOAD_HASH_BYTES } from '../../lib/body/ingest.ts';
import { rejectsS3 } from '../helpers/s3-assert.ts';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-hash-offload-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const tmpPath = () => path.join(dir, `upload-${++n}`);
const hex = (algo: string, b: Buffer) => createHash(algo).update(b).digest('hex');
const pieces = (b: Buffer, size: number) =>
  Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));

test('OffloadedHashes gives node:crypto’s MD5 and SHA-256 for every size around the stage buffer and any chunking', async () => {
  const MiB = 1 << 20;
  for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 12_345]) {
    const body = randomBytes(size);
    for (const chunk of [1 << 16, 777_777]) {
      const h = new OffloadedHashes(['md5', 'sha256']);
      for (let at = 0; at < size; at += chunk) h.update(body.subarray(at, at + chunk));
      const [md5, sha] = await h.digests();
      assert.equal(Buffer.from(md5!).toString('hex'), hex('md5', body), `md5 of ${size} in ${chunk}-byte chunks`);
      assert.equal(Buffer.from(sha!).toString('hex'), hex('sha256', body), `sha256 of ${size}`);
    }
  }
});

test('many bodies hashed at once each get their own digests', async () => {
  const bodies = Array.from({ length: 12 }, (_, i) => randomBytes((i + 1) * 300_000));
  const got = await Promise.all(
    bodies.map(async (b) => {
      const h = new OffloadedHashes(['md5']);
      for (let at = 0; at < b.length; at += 65_536) {
        h.update(b.subarray(at, at + 65_536));
        await h.backpressure();
      }
      return Buffer.from((await h.digests())[0]!).toString('hex');
    }),
  );
  assert.deepEqual(
    got,
    bodies.map((b) => hex('md5', b)),
  );
});

test('the bytes waiting to be hashed stay bounded however many uploads run at once, and return to 0', async () => {
  const b = hashBacklog();
  const body = randomBytes(6 << 20);
  let peak = 0;
  await Promise.all(
    Array.from({ length: 48 }, async () => {
      const h = new OffloadedHashes(['md5', 'sha256']);
      for (let at = 0; at < body.length; at += 65_536) {
        h.update(body.subarray(at, at + 65_536));
        peak = Math.max(peak, hashBacklog().bytes);
        await h.backpressure();
      }
      assert.equal(Buffer.from((await h.digests())[0]!).toString('hex'), hex('md5', body));
    }),
  );
  // Each upload may put one more stage buffer on the way before it is told to wait.
  assert.ok(peak <= b.totalLimit + 48 * b.stageBytes, `peak backlog ${peak} bytes`);
  assert.ok(peak > b.uploadLimit, 'the test did build a backlog');
  assert.equal(hashBacklog().bytes, 0);
});

test('a body over the offload size is stored with its MD5, checked against x-amz-content-sha256 and Content-MD5', async () => {
  const body = randomBytes(OFFLOAD_HASH_BYTES * 5 + 3);
  const file = tmpPath();
  const r = await ingest(pieces(body, 65_536), {
    tmpPath: file,
    payload: { kind: 'sha256', hex: hex('sha256', body) },
    headers: {
      'content-length': String(body.length),
      'content-md5': createHash('md5').update(body).digest('base64'),
    },
  });
  assert.equal(r.md5Hex, hex('md5', body));
  assert.equal(r.size, body.length);
  assert.ok((await readFile(file)).equals(body));

  const wrongSha = tmpPath();
  await rejectsS3(
    ingest(pieces(body, 65_536), {
      tmpPath: wrongSha,
      payload: { kind: 'sha256', hex: hex('sha256', Buffer.from('other')) },
      headers: { 'content-length': String(body.length) },
    }),
    'XAmzContentSHA256Mismatch',
  );
  assert.ok(!existsSync(wrongSha), 'the temp file was removed');
  const wrongMd5 = tmpPath();
  await rejectsS3(
    ingest(pieces(body, 65_536), {
      tmpPath: wrongMd5,
      payload: { kind: 'unsigned' },
      headers: { 'content-length': String(body.length), 'content-md5': createHash('md5').update('x').digest('base64') },
    }),
    'BadDigest',
  );
  assert.ok(!existsSync(wrongMd5), 'the temp file was removed');
});

test('a big body that ends early is IncompleteBody, leaves no file, and later bodies still hash', async () => {
  const body = randomBytes(OFFLOAD_HASH_BYTES * 4);
  const file = tmpPath();
  await rejectsS3(
    ingest(pieces(body.subarray(0, body.length - 10), 65_536), {
      tmpPath: file,
      payload: { kind: 'unsigned' },
      headers: { 'content-length': String(body.length) },
    }),
    'IncompleteBody',
  );
  assert.ok(!existsSync(file));
  const r = await ingest(pieces(body, 100_000), {
    tmpPath: tmpPath(),
    payload: { kind: 'unsigned' },
    headers: { 'content-length': String(body.length) },
  });
  assert.equal(r.md5Hex, hex('md5', body));
});
