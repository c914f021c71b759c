import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { authenticate } from '../../lib/auth/sigv4/index.ts';
import type { PayloadMode } from '../../lib/auth/types.ts';
import { checksumOf } from '../../lib/body/checksums.ts';
import { FsyncError } from '../../lib/storage/backend.ts';
import { ingest, readSmallBody, type IngestOptions } from '../../lib/body/ingest.ts';
import { SDK_CREDENTIALS, captureSdkRequest } from '../helpers/sdk-capture.ts';
import { signChunkedUpload } from '../helpers/signer.ts';
import { rejectsS3 } from '../helpers/s3-assert.ts';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-ingest-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const tmpPath = () => path.join(dir, `upload-${++n}`);
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const unsigned: PayloadMode = { kind: 'unsigned' };
const pieces = (b: Buffer, size = 1000) =>
  Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));
const data = randomBytes(100_000);

async function ingestFails(
  source: Readable,
  opts: Omit<IngestOptions, 'tmpPath'>,
  code: Parameters<typeof rejectsS3>[1],
) {
  const file = tmpPath();
  await rejectsS3(ingest(source, { tmpPath: file, ...opts }), code);
  assert.ok(!existsSync(file), 'the temp file was removed');
}

test('a plain body is written to the temp file with its size and MD5', async () => {
  const file = tmpPath();
  const result = await ingest(pieces(data), {
    tmpPath: file,
    payload: unsigned,
    headers: { 'content-length': String(data.length) },
  });
  assert.equal(result.size, data.length);
  assert.equal(result.md5Hex, md5(data).toString('hex'));
  assert.equal(result.checksum, undefined);
  assert.ok((await readFile(file)).equals(data));
});

test('an empty body makes an empty file', async () => {
  const file = tmpPath();
  const result = await ingest(Readable.from([]), {
    tmpPath: file,
    payload: unsigned,
    headers: { 'content-length': '0' },
  });
  assert.equal(result.size, 0);
  assert.equal(result.md5Hex, 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal((await readFile(file)).length, 0);
});

test('a body that does not match x-amz-content-sha256 is rejected with XAmzContentSHA256Mismatch', async () => {
  const file = tmpPath();
  const ok = await ingest(pieces(data), { tmpPath: file, payload: { kind: 'sha256', hex: sha256(data) }, headers: {} });
  assert.equal(ok.size, data.length);
  await ingestFails(
    pieces(data),
    { payload: { kind: 'sha256', hex: sha256(Buffer.from('other')) }, headers: {} },
    'XAmzContentSHA256Mismatch',
  );
});

test('Content-MD5 is checked: a mismatch is BadDigest, a malformed value InvalidDigest', async () => {
  const good = md5(data).toString('base64');
  await ingest(pieces(data), { tmpPath: tmpPath(), payload: unsigned, headers: { 'content-md5': good } });
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'content-md5': md5(Buffer.from('x')).toString('base64') } },
    'BadDigest',
  );
  for (const bad of ['abc', md5(data).toString('hex'), good.slice(0, -2)]) {
    await ingestFails(pieces(data), { payload: unsigned, headers: { 'content-md5': bad } }, 'InvalidDigest');
  }
});

test('an x-amz-checksum header is verified and returned; a mismatch is BadDigest', async () => {
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    const value = checksumOf(algorithm, data);
    const result = await ingest(pieces(data), {
      tmpPath: tmpPath(),
      payload: unsigned,
      headers: { [`x-amz-checksum-${algorithm.toLowerCase()}`]: value },
    });
    assert.deepEqual(result.checksum, { algorithm, base64: value });
    const wrong = checksumOf(algorithm, Buffer.from('something else'));
    await ingestFails(
      pieces(data),
      { payload: unsigned, headers: { [`x-amz-checksum-${algorithm.toLowerCase()}`]: wrong } },
      'BadDigest',
    );
  }
});

test('malformed, duplicated or conflicting checksum headers are rejected before reading', async () => {
  const crc = checksumOf('CRC32', data);
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'x-amz-checksum-crc32': 'not base64!' } },
    'InvalidRequest',
  );
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'x-amz-checksum-crc32': crc, 'x-amz-checksum-sha1': checksumOf('SHA1', data) } },
    'InvalidRequest',
  );
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'SHA256' } },
    'InvalidRequest',
  );
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'x-amz-sdk-checksum-algorithm': 'MD5' } },
    'InvalidRequest',
  );
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'x-amz-trailer': 'x-amz-checksum-crc32' } },
    'InvalidRequest',
  );
});

test('x-amz-sdk-checksum-algorithm without a value still computes the checksum to store', async () => {
  const result = await ingest(pieces(data), {
    tmpPath: tmpPath(),
    payload: unsigned,
    headers: { 'x-amz-sdk-checksum-algorithm': 'crc64nvme' },
  });
  assert.deepEqual(result.checksum, { algorithm: 'CRC64NVME', base64: checksumOf('CRC64NVME', data) });
});

const signedUpload = (
  mode: 'signed' | 'signed-trailer' | 'unsigned-trailer',
  extra: Partial<Parameters<typeof signChunkedUpload>[0]> = {},
) =>
  signChunkedUpload({
    method: 'PUT',
    url: 'http://localhost:9000/bucket/key',
    accessKey: SDK_CREDENTIALS.accessKeyId,
    secretKey: SDK_CREDENTIALS.secretAccessKey,
    region: 'us-east-1',
    mode,
    data,
    chunkSize: 8192,
    trailer: mode === 'signed' ? undefined : ['x-amz-checksum-crc32c', checksumOf('CRC32C', data)],
    ...extra,
  });
const credential = {
  accessKeyId: SDK_CREDENTIALS.accessKeyId,
  secretKey: SDK_CREDENTIALS.secretAccessKey,
  ownerId: 'o',
  displayName: 'd',
};
const payloadOf = (headers: Record<string, string>) =>
  authenticate({ method: 'PUT', rawPath: '/bucket/key', rawQuery: '', headers }, () => credential, {
    region: 'us-east-1',
    now: Date.now(),
  }).payload;

for (const mode of ['signed', 'signed-trailer', 'unsigned-trailer'] as const) {
  test(`an aws-chunked upload in ${mode} mode is decoded, verified and stored without its framing`, async () => {
    const { headers, body } = signedUpload(mode);
    const file = tmpPath();
    const result = await ingest(pieces(body, 3000), { tmpPath: file, payload: payloadOf(headers), headers });
    assert.equal(result.size, data.length);
    assert.ok((await readFile(file)).equals(data));
    if (mode !== 'signed')
      assert.deepEqual(result.checksum, { algorithm: 'CRC32C', base64: checksumOf('CRC32C', data) });
  });
}

test('an aws-chunked upload with a wrong chunk signature leaves no file behind', async () => {
  const { headers, body } = signedUpload('signed-trailer', { corrupt: { chunkSignature: 5 } });
  await ingestFails(pieces(body), { payload: payloadOf(headers), headers }, 'SignatureDoesNotMatch');
});

test('a trailing checksum that does not match the data is BadDigest, a missing one InvalidRequest', async () => {
  const wrong = signedUpload('unsigned-trailer', { trailer: ['x-amz-checksum-crc32c', 'AAAAAA=='] });
  await ingestFails(pieces(wrong.body), { payload: payloadOf(wrong.headers), headers: wrong.headers }, 'BadDigest');
  const bad = signedUpload('unsigned-trailer', { trailer: ['x-amz-checksum-crc32c', 'AAAA'] });
  await ingestFails(pieces(bad.body), { payload: payloadOf(bad.headers), headers: bad.headers }, 'InvalidRequest');
  const missing = signedUpload('unsigned-trailer', { trailer: undefined });
  const headers = { ...missing.headers, 'x-amz-trailer': 'x-amz-checksum-crc32c' };
  await ingestFails(
    pieces(missing.body),
    { payload: { kind: 'streaming-unsigned-trailer' }, headers },
    'InvalidRequest',
  );
});

test('a streaming PutObject body produced by @aws-sdk/client-s3 is stored with its CRC32', async () => {
  const { auth, headers, body } = await captureSdkRequest(
    new PutObjectCommand({
      Bucket: 'b',
      Key: 'k',
      Body: Readable.from([data.subarray(0, 60_000), data.subarray(60_000)]),
      ContentLength: data.length,
    }),
  );
  const { payload } = authenticate(auth, () => credential, { region: 'us-east-1', now: Date.now() });
  const file = tmpPath();
  const result = await ingest(pieces(body, 777), { tmpPath: file, payload, headers });
  assert.deepEqual(result.checksum, { algorithm: 'CRC32', base64: checksumOf('CRC32', data) });
  assert.ok((await readFile(file)).equals(data));
});

test('a body shorter than its Content-Length is rejected with IncompleteBody', async () => {
  await ingestFails(
    pieces(data.subarray(0, 500)),
    { payload: unsigned, headers: { 'content-length': '1000' } },
    'IncompleteBody',
  );
  const { headers, body } = signedUpload('unsigned-trailer');
  const { 'content-length': _, ...withoutLength } = headers;
  await ingestFails(
    pieces(body.subarray(0, body.length - 40)),
    { payload: payloadOf(headers), headers: withoutLength },
    'IncompleteBody',
  );
});

test('a source that fails midway is rejected with IncompleteBody and leaves no file', async () => {
  async function* failing() {
    yield data.subarray(0, 1000);
    throw new Error('ECONNRESET');
  }
  await ingestFails(Readable.from(failing()), { payload: unsigned, headers: {} }, 'IncompleteBody');
});

test('a body over maxSize is rejected with EntityTooLarge, up front when the length is declared', async () => {
  await ingestFails(
    pieces(data),
    { payload: unsigned, headers: { 'content-length': String(data.length) }, maxSize: 1000 },
    'EntityTooLarge',
  );
  await ingestFails(pieces(data), { payload: unsigned, headers: {}, maxSize: 1000 }, 'EntityTooLarge');
});

test('an existing file at the temp path is neither overwritten nor removed', async () => {
  const file = tmpPath();
  await writeFile(file, 'precious');
  await assert.rejects(ingest(pieces(data), { tmpPath: file, payload: unsigned, headers: {} }), { code: 'EEXIST' });
  assert.equal(await readFile(file, 'utf8'), 'precious');
});

test('an fsync failure is thrown as FsyncError and the temp file removed', async () => {
  const probe = await open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = proto.sync;
  proto.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  try {
    const file = tmpPath();
    await assert.rejects(
      ingest(pieces(data), { tmpPath: file, payload: unsigned, headers: {} }),
      (err: unknown) => err instanceof FsyncError && ((err as Error).cause as { code?: string }).code === 'EIO',
    );
    assert.ok(!existsSync(file));
  } finally {
    proto.sync = original;
  }
});

test('a client that aborts an upload midway gets IncompleteBody on the server, which keeps running', async () => {
  const file = tmpPath();
  let outcome: Promise<unknown> | undefined;
  const server = createServer((req: IncomingMessage) => {
    outcome = ingest(req, { tmpPath: file, payload: unsigned, headers: req.headers }).then(
      () => 'resolved',
      (err: unknown) => err,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const req = request({
      port,
      host: '127.0.0.1',
      method: 'PUT',
      path: '/b/k',
      headers: { 'content-length': '1000000' },
    });
    req.on('error', () => {});
    req.write(data.subarray(0, 50_000));
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    while (!outcome) await new Promise((r) => setTimeout(r, 5));
    const err = (await outcome) as { code?: string };
    assert.equal(err.code, 'IncompleteBody');
    assert.ok(!existsSync(file));
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f === path.basename(file)),
      [],
    );
  } finally {
    server.close();
  }
});

test('after a mid-body failure the server can still answer the client on the same connection', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 1);
  const upload = signChunkedUpload({
    method: 'PUT',
    url: 'http://127.0.0.1:1/bucket/key',
    accessKey: SDK_CREDENTIALS.accessKeyId,
    secretKey: SDK_CREDENTIALS.secretAccessKey,
    region: 'us-east-1',
    mode: 'signed',
    data: big,
    chunkSize: 65536,
    corrupt: { chunkSignature: 0 },
  });
  const server = createServer((req, res) => {
    ingest(req, { tmpPath: tmpPath(), payload: payloadOf(upload.headers), headers: req.headers }).then(
      () => res.writeHead(200).end(),
      (err: { code?: string; status?: number }) =>
        res.writeHead(err.status ?? 500, { connection: 'close' }).end(err.code),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { port, host: '127.0.0.1', method: 'PUT', path: '/bucket/key', headers: upload.headers },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(upload.body);
    });
    assert.deepEqual(response, { status: 403, body: 'SignatureDoesNotMatch' });
  } finally {
    server.close();
  }
});

test('a small body is read into memory and verified like an object body', async () => {
  const xml = Buffer.from('<Delete><Object><Key>a</Key></Object></Delete>');
  const body = await readSmallBody(Readable.from([xml]), {
    payload: { kind: 'sha256', hex: sha256(xml) },
    headers: { 'content-md5': md5(xml).toString('base64') },
  });
  assert.ok(body.equals(xml));
  await rejectsS3(
    readSmallBody(Readable.from([xml]), {
      payload: unsigned,
      headers: { 'content-md5': md5(Buffer.from('x')).toString('base64') },
    }),
    'BadDigest',
  );
  await rejectsS3(
    readSmallBody(Readable.from([xml]), { payload: { kind: 'sha256', hex: sha256(Buffer.from('x')) }, headers: {} }),
    'XAmzContentSHA256Mismatch',
  );
});

test('a small body over the limit is rejected with MaxMessageLengthExceeded', async () => {
  await rejectsS3(
    readSmallBody(pieces(data), { payload: unsigned, headers: { 'content-length': String(data.length) }, limit: 1024 }),
    'MaxMessageLengthExceeded',
  );
  await rejectsS3(
    readSmallBody(pieces(data), { payload: unsigned, headers: {}, limit: 1024 }),
    'MaxMessageLengthExceeded',
  );
});

test('a small aws-chunked body is decoded and its chunk signatures verified', async () => {
  const { headers, body } = signedUpload('signed-trailer');
  const decoded = await readSmallBody(pieces(body), { payload: payloadOf(headers), headers });
  assert.ok(decoded.equals(data));
  const bad = signedUpload('signed', { corrupt: { chunkSignature: 1 } });
  await rejectsS3(
    readSmallBody(pieces(bad.body), { payload: payloadOf(bad.headers), headers: bad.headers }),
    'SignatureDoesNotMatch',
  );
});
