import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  CHECKSUM_ALGORITHMS,
  algorithmFromHeaderName,
  checksumHeaderName,
  checksumOf,
  createChecksummer,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../lib/body/checksums.ts';

// The AWS SDK's own implementations, to cross-check ours (they come with @aws-sdk/client-s3).
const require = createRequire(import.meta.url);
const { Crc32, Crc32c, Crc64Nvme } = require('@aws-sdk/checksums/crc') as Record<
  string,
  new () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> }
>;

async function reference(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  if (algorithm === 'SHA1' || algorithm === 'SHA256')
    return createHash(algorithm.toLowerCase()).update(data).digest('base64');
  const impl = new { CRC32: Crc32, CRC32C: Crc32c, CRC64NVME: Crc64Nvme }[algorithm]!();
  impl.update(data);
  return Buffer.from(await impl.digest()).toString('base64');
}

test('each CRC gives the standard check value for "123456789" as big-endian bytes', () => {
  const check = Buffer.from('123456789');
  const hex = (a: ChecksumAlgorithm) => Buffer.from(checksumOf(a, check), 'base64').toString('hex');
  assert.equal(hex('CRC32'), 'cbf43926');
  assert.equal(hex('CRC32C'), 'e3069283');
  assert.equal(hex('CRC64NVME'), 'ae8b14860a799888');
});

test('the checksum of an empty body is the all-zero CRC and the SHA of nothing', () => {
  assert.equal(checksumOf('CRC32', Buffer.alloc(0)), 'AAAAAA==');
  assert.equal(checksumOf('CRC32C', Buffer.alloc(0)), 'AAAAAA==');
  assert.equal(checksumOf('CRC64NVME', Buffer.alloc(0)), 'AAAAAAAAAAA=');
  assert.equal(checksumOf('SHA256', Buffer.alloc(0)), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
});

test('every algorithm matches the AWS SDK implementation for any length and any split into updates', async () => {
  const data = randomBytes(70_000);
  const lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 255, 1000, 4097, 65536, 70_000];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    for (const len of lengths) {
      const slice = data.subarray(3, 3 + len);
      const expected = await reference(algorithm, slice);
      assert.equal(checksumOf(algorithm, slice), expected, `${algorithm} ${len}`);
      for (const split of [1, 7, len >> 1, len - 1]) {
        if (split <= 0 || split >= len) continue;
        const c = createChecksummer(algorithm);
        c.update(slice.subarray(0, split));
        c.update(slice.subarray(split));
        assert.equal(c.digest().toString('base64'), expected, `${algorithm} ${len} split at ${split}`);
      }
    }
  }
});

test('checksum header names map to algorithms and back, ignoring case', () => {
  for (const a of CHECKSUM_ALGORITHMS) assert.equal(algorithmFromHeaderName(checksumHeaderName(a)), a);
  assert.equal(checksumHeaderName('CRC64NVME'), 'x-amz-checksum-crc64nvme');
  assert.equal(algorithmFromHeaderName('X-Amz-Checksum-CRC32C'), 'CRC32C');
  assert.equal(algorithmFromHeaderName('x-amz-checksum-type'), undefined);
  assert.equal(algorithmFromHeaderName('x-amz-checksum-algorithm'), undefined);
  assert.equal(algorithmFromHeaderName('content-md5'), undefined);
  assert.equal(parseChecksumAlgorithm('sha256'), 'SHA256');
  assert.equal(parseChecksumAlgorithm('MD5'), undefined);
});

test('a checksum value is valid only as canonical base64 of the algorithm digest length', () => {
  assert.ok(isValidChecksumValue('CRC32', 'mL2egA=='));
  assert.ok(isValidChecksumValue('CRC64NVME', 'AAAAAAAAAAA='));
  assert.ok(isValidChecksumValue('SHA1', checksumOf('SHA1', Buffer.from('x'))));
  assert.ok(!isValidChecksumValue('CRC32', 'mL2egA='));
  assert.ok(!isValidChecksumValue('CRC32', 'mL2egAAA'));
  assert.ok(!isValidChecksumValue('CRC32', 'mL2e gA='));
  assert.ok(!isValidChecksumValue('CRC32', 'mL2egB=='));
  assert.ok(!isValidChecksumValue('CRC64NVME', 'mL2egA=='));
  assert.ok(!isValidChecksumValue('SHA256', ''));
});

test('checksum throughput over a 64 MiB body is reported', (t) => {
  const data = randomBytes(64 * 1024 * 1024);
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const c = createChecksummer(algorithm);
    const started = performance.now();
    for (let off = 0; off < data.length; off += 65536) c.update(data.subarray(off, off + 65536));
    c.digest();
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`${algorithm}: ${(64 / seconds).toFixed(0)} MiB/s`);
  }
});
