// The streaming multipart/form-data reader (RFC 7578) behind POST Object: every way the
// body can be cut into chunks gives the same fields and file bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FormDataReader, formBoundary } from '../../lib/s3/form-data.ts';
import { S3Error } from '../../lib/s3/errors.ts';
import { FILENAME_VARIABLE } from '../../lib/s3/post-object.ts';

const B = '----WebKitFormBoundaryAbC123';

function body(fields: Record<string, string>, file: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from('preamble is ignored\r\n')];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a b.bin"\r\nContent-Type: application/x-test\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${B}--\r\n`),
  );
  return Buffer.concat(parts);
}

async function* chunks(buf: Buffer, sizes: (i: number) => number) {
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = Math.max(1, sizes(i));
    yield buf.subarray(at, at + n);
    at += n;
  }
}

async function read(source: AsyncIterable<Buffer>) {
  const r = new FormDataReader(source, B, 20 * 1024, () => new S3Error('MaxPostPreDataLengthExceeded'));
  await r.start();
  const fields: Record<string, string> = {};
  for (let p = await r.next(); p; p = await r.next()) {
    if (p.name === 'file') {
      const got: Buffer[] = [];
      for await (const c of r.stream()) got.push(Buffer.from(c));
      assert.equal(p.filename, 'a b.bin');
      assert.equal(p.contentType, 'application/x-test');
      assert.equal(await r.next(), null, 'the closing boundary follows');
      return { fields, file: Buffer.concat(got) };
    }
    fields[p.name] = await r.value();
  }
  throw new Error('no file');
}

test('the boundary parameter is read from the Content-Type, quoted or not', () => {
  assert.equal(formBoundary(`multipart/form-data; boundary=${B}`), B);
  assert.equal(formBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"'), 'a b');
  assert.equal(formBoundary('application/x-www-form-urlencoded'), undefined);
});

test('fields and a file holding near-boundary bytes come out the same for every chunk size', async () => {
  // Bytes that start like the delimiter but are not it, at the start, middle and end.
  const tricky = Buffer.concat([
    Buffer.from(`\r\n--${B.slice(0, 10)}`),
    randomBytes(3000),
    Buffer.from(`\r\n--${B.slice(0, -1)}X\r\n-`),
  ]);
  const whole = body({ key: `uploads/${FILENAME_VARIABLE}`, policy: 'eyJ9', 'x-amz-meta-a': 'ü' }, tricky);
  for (let size = 1; size <= 80; size++) {
    const got = await read(chunks(whole, () => size));
    assert.deepEqual(
      got.fields,
      { key: `uploads/${FILENAME_VARIABLE}`, policy: 'eyJ9', 'x-amz-meta-a': 'ü' },
      `chunk size ${size}`,
    );
    assert.ok(got.file.equals(tricky), `file bytes, chunk size ${size}`);
  }
  for (let seed = 0; seed < 50; seed++) {
    const got = await read(chunks(whole, (i) => ((i * 7919 + seed * 104729) % 97) + 1));
    assert.ok(got.file.equals(tricky));
  }
});

test('a body cut before the closing boundary is MalformedPOSTRequest; fields past the budget are refused', async () => {
  const whole = body({ key: 'k' }, Buffer.from('data'));
  await assert.rejects(
    read(chunks(whole.subarray(0, whole.length - 12), () => 5)),
    (e: unknown) => e instanceof S3Error && e.code === 'MalformedPOSTRequest',
  );
  const big = body({ pad: 'x'.repeat(30 * 1024) }, Buffer.from('data'));
  await assert.rejects(
    read(chunks(big, () => 1000)),
    (e: unknown) => e instanceof S3Error && e.code === 'MaxPostPreDataLengthExceeded',
  );
});
