// Bad input gets a clear S3 error, never a crash and never stored data; after each case the
// server still answers the next request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ACCESS_KEY, BACKEND, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { signRequest } from '../helpers/signer.ts';
import { rawSocket, signed } from '../helpers/raw.ts';

describe('bad input', () => {
  let srv: TestServer;
  let base: string;
  before(async () => {
    srv = await startServer();
    base = srv.url;
    assert.equal((await signed('PUT', `${base}/bad-bucket`)).status, 200);
  });
  after(() => srv.stop());

  async function stillServing(): Promise<void> {
    const r = await signed('GET', `${base}/`);
    assert.equal(r.status, 200);
    assert.match(r.text, /<Name>bad-bucket<\/Name>/);
  }

  async function tempFiles(): Promise<string[]> {
    return readdir(path.join(srv.dataDir, 'objects', '.tmp'));
  }

  test('malformed XML in DeleteObjects, CreateBucket and PutBucketAcl bodies gets MalformedXML / MalformedACLError', async () => {
    const md5 = (s: string) => ({ 'content-md5': require_md5(s) });
    const bodies: Array<[string, string, string, Record<string, string>, string]> = [
      [
        'POST',
        `${base}/bad-bucket?delete`,
        '<Delete><Object><Key>a</Key></Object',
        md5('<Delete><Object><Key>a</Key></Object'),
        'MalformedXML',
      ],
      ['POST', `${base}/bad-bucket?delete`, '<NotDelete/>', md5('<NotDelete/>'), 'MalformedXML'],
      [
        'POST',
        `${base}/bad-bucket?delete`,
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&e;</Key></Object></Delete>',
        md5('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&e;</Key></Object></Delete>'),
        'MalformedXML',
      ],
      ['PUT', `${base}/new-bad-bucket`, '<CreateBucketConfiguration><LocationConstraint>', {}, 'MalformedXML'],
      ['PUT', `${base}/bad-bucket?acl`, '<AccessControlPolicy><Owner>', {}, 'MalformedACLError'],
    ];
    for (const [method, url, body, headers, code] of bodies) {
      const r = await signed(method, url, { body, headers });
      assert.equal(r.status, 400, `${url} ${r.text}`);
      assert.equal(r.code, code);
      await stillServing();
    }
  });

  test('DeleteObjects without Content-MD5 or a checksum is refused with InvalidRequest', async () => {
    const body = '<Delete><Object><Key>a</Key></Object></Delete>';
    const r = await signed('POST', `${base}/bad-bucket?delete`, { body });
    assert.equal(r.code, 'InvalidRequest');
  });

  test('a truncated body stores nothing, leaves no temp file, and the server lives on', async () => {
    const url = `${base}/bad-bucket/truncated`;
    const headers = signRequest({
      method: 'PUT',
      url,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': '100000' },
    });
    const head = `PUT /bad-bucket/truncated HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
    await rawSocket(srv.port, Buffer.concat([Buffer.from(head), Buffer.alloc(5000, 1)]), {
      endAfterWrite: true,
      waitMs: 1000,
    });
    await stillServing();
    assert.equal((await signed('HEAD', url)).status, 404);
    if (BACKEND !== 'local') return; // the temp-file check below reads the local disk layout
    // The server notices the end of the stream asynchronously; give it a moment.
    for (let i = 0; i < 20 && (await tempFiles()).length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await tempFiles(), []);
  });

  test('keys with ../ are stored as plain keys and never escape the data directory', async () => {
    for (const key of ['../escape', 'a/../../escape', '..', '%2e%2e/enc']) {
      const url = `${base}/bad-bucket/${key}`;
      const put = await signed('PUT', url, { body: key });
      assert.equal(put.status, 200, `${key}: ${put.text}`);
      const get = await signed('GET', url);
      assert.equal(get.text, key);
    }
    const list = await signed('GET', `${base}/bad-bucket?list-type=2`);
    assert.match(list.text, /<Key>\.\.\/escape<\/Key>/);
    assert.match(list.text, /<Key>\.\.\/enc<\/Key>/);
    if (BACKEND !== 'local') return;
    const top = await readdir(srv.dataDir);
    assert.deepEqual(
      top.sort(),
      ['metadata.db', 'metadata.db-shm', 'metadata.db-wal', 'metadata.db.lock', 'objects', 'space-reserve']
        .filter((n) => top.includes(n))
        .sort(),
    );
    await stillServing();
  });

  test('a key with %00 is refused with InvalidArgument', async () => {
    const r = await signed('PUT', `${base}/bad-bucket/a%00b`, { body: 'x' });
    assert.equal(r.status, 400);
    assert.equal(r.code, 'InvalidArgument');
    await stillServing();
  });

  test('a broken percent-encoding is refused with InvalidURI', async () => {
    const r = await signed('GET', `${base}/bad-bucket/%E0%A4%A`);
    assert.equal(r.status, 400);
    assert.equal(r.code, 'InvalidURI');
    await stillServing();
  });

  test('a 10 KB header is served; 10 KB of user metadata is MetadataTooLarge', async () => {
    const big = 'v'.repeat(10 * 1024);
    const ok = await signed('GET', `${base}/`, { headers: { 'x-custom-padding': big } });
    assert.equal(ok.status, 200);
    const r = await signed('PUT', `${base}/bad-bucket/meta`, { body: 'x', headers: { 'x-amz-meta-big': big } });
    assert.equal(r.status, 400);
    assert.equal(r.code, 'MetadataTooLarge');
    await stillServing();
  });

  test('a header section over the limit is refused with RequestHeaderSectionTooLarge', async () => {
    const reply = await rawSocket(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(64 * 1024)}\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.match(reply, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
    await stillServing();
  });

  test('garbage instead of HTTP gets a 400 and the server lives on', async () => {
    const reply = await rawSocket(srv.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400/);
    await stillServing();
  });

  test('unknown S3 sub-resources answer NotImplemented; wrong methods MethodNotAllowed', async () => {
    assert.equal((await signed('GET', `${base}/bad-bucket?website`)).code, 'NotImplemented');
    assert.equal((await signed('GET', `${base}/bad-bucket?website`)).status, 501);
    const m = await signed('PATCH', `${base}/bad-bucket/k`);
    assert.equal(m.status, 405);
    assert.equal(m.code, 'MethodNotAllowed');
    await stillServing();
  });

  test('a PUT body larger than 5 GiB is refused up front with EntityTooLarge', async () => {
    const url = `${base}/bad-bucket/huge`;
    const headers = signRequest({
      method: 'PUT',
      url,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': String(5 * 1024 ** 3 + 1) },
    });
    const head = `PUT /bad-bucket/huge HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
    const reply = await rawSocket(srv.port, head, { waitMs: 2000 });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.match(reply, /<Code>EntityTooLarge<\/Code>/);
    await stillServing();
  });

  test('a wrong signature is refused and the server lives on', async () => {
    const r = await signed('PUT', `${base}/bad-bucket/sig`, { body: 'x', secretKey: 'wrong' });
    assert.equal(r.code, 'SignatureDoesNotMatch');
    await stillServing();
  });
});

import { createHash } from 'node:crypto';
function require_md5(s: string): string {
  return createHash('md5').update(s).digest('base64');
}
