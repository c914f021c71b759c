import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AwsChunkedDecoder,
  isAwsChunked,
  storedContentEncoding,
  type ChunkSigning,
} from '../../lib/body/aws-chunked.ts';
import { checksumOf } from '../../lib/body/checksums.ts';
import { buildChunkedBody, signingKeyFor, type ChunkedMode, type SigningDetails } from '../helpers/signer.ts';
import { throwsS3 } from '../helpers/s3-assert.ts';

const DETAILS: SigningDetails = {
  signature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  signingKey: signingKeyFor('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1'),
  timestamp: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
};
const signingFor = (mode: ChunkedMode): ChunkSigning | undefined =>
  mode === 'unsigned-trailer'
    ? undefined
    : { ...DETAILS, seedSignature: DETAILS.signature, trailer: mode === 'signed-trailer' };

interface Decoded {
  data: Buffer;
  trailers: Array<[string, string]>;
  pieces: number;
}

/** Decodes `pieces` one write at a time. */
function decode(pieces: Buffer[], mode: ChunkedMode, decodedLength?: number): Decoded {
  const out: Buffer[] = [];
  const decoder = new AwsChunkedDecoder({ signing: signingFor(mode), decodedLength }, (d) => out.push(Buffer.from(d)));
  for (const p of pieces) decoder.write(p);
  decoder.end();
  return { data: Buffer.concat(out), trailers: decoder.trailers, pieces: out.length };
}

const small = Buffer.from('The quick brown fox jumps over the lazy dog, twice over.');
const crc = (d: Buffer): [string, string] => ['x-amz-checksum-crc32', checksumOf('CRC32', d)];

test('the chunked upload example of the AWS documentation decodes and verifies', () => {
  const data = Buffer.alloc(66560, 'a');
  const body = buildChunkedBody({ mode: 'signed', data, chunkSize: 65536, signing: DETAILS });
  assert.equal(body.length, 66824); // the Content-Length in the documented request
  assert.match(
    body.toString('latin1', 0, 90),
    /^10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n/,
  );
  assert.deepEqual(decode([body], 'signed', 66560).data, data);
});

for (const mode of ['signed', 'signed-trailer', 'unsigned-trailer'] as const) {
  test(`a ${mode} body decodes the same whatever the read boundaries`, () => {
    const trailer = mode === 'signed' ? undefined : crc(small);
    const body = buildChunkedBody({ mode, data: small, chunkSize: 16, signing: DETAILS, trailer });
    for (let cut = 0; cut <= body.length; cut++) {
      const result = decode([body.subarray(0, cut), body.subarray(cut)], mode, small.length);
      assert.deepEqual(result.data, small, `cut at ${cut}`);
      assert.deepEqual(result.trailers, trailer ? [trailer] : [], `cut at ${cut}`);
    }
    const bytes = [...body].map((b) => Buffer.from([b]));
    assert.deepEqual(decode(bytes, mode, small.length).data, small);
  });
}

test('a chunk with a wrong signature is rejected with SignatureDoesNotMatch', () => {
  for (const chunk of [0, 2, 4]) {
    const body = buildChunkedBody({
      mode: 'signed',
      data: small,
      chunkSize: 16,
      signing: DETAILS,
      corrupt: { chunkSignature: chunk },
    });
    throwsS3(() => decode([body], 'signed'), 'SignatureDoesNotMatch');
  }
});

test('a signed chunk without a chunk-signature is rejected with SignatureDoesNotMatch', () => {
  const body = buildChunkedBody({ mode: 'unsigned-trailer', data: small, chunkSize: 16 });
  throwsS3(() => decode([body], 'signed'), 'SignatureDoesNotMatch');
});

test('chunks signed for another request are rejected with SignatureDoesNotMatch', () => {
  const body = buildChunkedBody({
    mode: 'signed',
    data: small,
    chunkSize: 16,
    signing: { ...DETAILS, signature: 'f'.repeat(64) },
  });
  throwsS3(() => decode([body], 'signed'), 'SignatureDoesNotMatch');
});

test('a trailer with a wrong signature, a changed value or no signature is rejected with SignatureDoesNotMatch', () => {
  const trailer = crc(small);
  const wrongSig = buildChunkedBody({
    mode: 'signed-trailer',
    data: small,
    chunkSize: 16,
    signing: DETAILS,
    trailer,
    corrupt: { trailerSignature: true },
  });
  throwsS3(() => decode([wrongSig], 'signed-trailer'), 'SignatureDoesNotMatch');
  const changed = buildChunkedBody({
    mode: 'signed-trailer',
    data: small,
    chunkSize: 16,
    signing: DETAILS,
    trailer,
    corrupt: { trailerValue: 'AAAAAA==' },
  });
  throwsS3(() => decode([changed], 'signed-trailer'), 'SignatureDoesNotMatch');
  const unsigned = buildChunkedBody({ mode: 'signed', data: small, chunkSize: 16, signing: DETAILS, trailer });
  throwsS3(() => decode([unsigned], 'signed-trailer'), 'SignatureDoesNotMatch');
});

test('trailing headers in a signed body without trailer support are refused', () => {
  const body = buildChunkedBody({ mode: 'signed', data: small, chunkSize: 16, signing: DETAILS, trailer: crc(small) });
  throwsS3(() => decode([body], 'signed'), 'InvalidRequest');
});

test('a body cut short anywhere is rejected with IncompleteBody', () => {
  for (const mode of ['signed', 'signed-trailer', 'unsigned-trailer'] as const) {
    const body = buildChunkedBody({
      mode,
      data: small,
      chunkSize: 16,
      signing: DETAILS,
      trailer: mode === 'signed' ? undefined : crc(small),
    });
    // Every strict prefix but one: a body may stop right after its final chunk line (the
    // caller then notices a missing promised trailer).
    const finalChunkLine = body.lastIndexOf('\r\n0') + 2;
    const finalChunkEnd = body.indexOf('\r\n', finalChunkLine) + 2;
    for (let end = 0; end < body.length; end++) {
      if (end === finalChunkEnd) continue;
      const err = (() => {
        try {
          decode([body.subarray(0, end)], mode, small.length);
        } catch (e) {
          return e as { code?: string };
        }
        return undefined;
      })();
      assert.ok(
        err?.code === 'IncompleteBody' || (mode !== 'unsigned-trailer' && err?.code === 'SignatureDoesNotMatch'),
        `${mode} cut at ${end}: ${err?.code}`,
      );
    }
  }
});

test('a body without trailer may end right after its final chunk, as the AWS SDK for JavaScript sends it', () => {
  assert.equal(decode([Buffer.from('5\r\nhello\r\n0\r\n')], 'unsigned-trailer', 5).data.toString(), 'hello');
  const unterminated = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n');
  throwsS3(() => decode([unterminated], 'unsigned-trailer', 5), 'IncompleteBody');
});

test('a decoded length other than x-amz-decoded-content-length is rejected with IncompleteBody', () => {
  const body = buildChunkedBody({ mode: 'unsigned-trailer', data: small, chunkSize: 16 });
  throwsS3(() => decode([body], 'unsigned-trailer', small.length + 1), 'IncompleteBody');
  throwsS3(() => decode([body], 'unsigned-trailer', small.length - 1), 'IncompleteBody');
});

test('malformed framing is rejected with IncompleteBody', () => {
  for (const text of [
    'zz\r\nhello\r\n0\r\n\r\n',
    '5\r\nhello!\r\n0\r\n\r\n',
    '-5\r\nhello\r\n0\r\n\r\n',
    '5\r\nhello\r\n0\r\nno-colon\r\n\r\n',
  ]) {
    throwsS3(() => decode([Buffer.from(text)], 'unsigned-trailer'), 'IncompleteBody');
  }
  const longLine = Buffer.from('5;' + 'x'.repeat(5000) + '\r\nhello\r\n0\r\n\r\n');
  throwsS3(() => decode([longLine], 'unsigned-trailer'), 'IncompleteBody', /longer than 4096/);
});

test('bytes after the end of the body are refused', () => {
  throwsS3(() => decode([Buffer.from('5\r\nhello\r\n0\r\n\r\nextra')], 'unsigned-trailer'), 'InvalidRequest');
});

test('a large chunk streams through in pieces without being buffered', () => {
  const data = Buffer.alloc(3 * 1024 * 1024, 7);
  const body = buildChunkedBody({ mode: 'signed', data, chunkSize: data.length, signing: DETAILS });
  const pieces: Buffer[] = [];
  for (let off = 0; off < body.length; off += 65536) pieces.push(body.subarray(off, off + 65536));
  const result = decode(pieces, 'signed', data.length);
  assert.ok(result.pieces >= 48, `data came out in ${result.pieces} pieces`);
  assert.ok(result.data.equals(data));
});

test('aws-chunked is recognised in Content-Encoding and left out of the stored encoding', () => {
  assert.ok(isAwsChunked('aws-chunked'));
  assert.ok(isAwsChunked('gzip, AWS-Chunked'));
  assert.ok(!isAwsChunked('gzip'));
  assert.ok(!isAwsChunked(undefined));
  assert.equal(storedContentEncoding('aws-chunked'), undefined);
  assert.equal(storedContentEncoding('gzip,aws-chunked'), 'gzip');
  assert.equal(storedContentEncoding('br'), 'br');
});
