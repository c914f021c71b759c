import { Readable } from 'node:stream';
import { rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { ingest } from '../lib/body/ingest.ts';
import { buildChunkedBody } from '../test/helpers/signer.ts';
const GiB = 1024 ** 3; const piece = randomBytes(65536);
function* raw(total: number) { for (let o = 0; o < total; o += 65536) yield piece; }
let peak = 0; const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
async function run(name: string, source: () => Iterable<Buffer>, payload: any, headers: any, total: number) {
  const t = performance.now(); const f = `/tmp/bs/bench-${Date.now()}`;
  const r = await ingest(Readable.from(source(), { objectMode: false }), { tmpPath: f, payload, headers });
  const s = (performance.now() - t) / 1000; await rm(f);
  console.log(name, (total / 1048576 / s).toFixed(0), 'MiB/s', r.size, 'peak rss', (peak / 1048576).toFixed(0), 'MiB');
}
await run('unsigned (md5 only)', () => raw(GiB), { kind: 'unsigned' }, {}, GiB);
await run('unsigned + crc64nvme', () => raw(GiB), { kind: 'unsigned' }, { 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' }, GiB);
await run('unsigned + crc32', () => raw(GiB), { kind: 'unsigned' }, { 'x-amz-sdk-checksum-algorithm': 'CRC32' }, GiB);
// sha256 of 1GiB of repeated piece
const h = createHash('sha256'); for (const p of raw(GiB)) h.update(p); const hex = h.digest('hex');
await run('sha256 + md5', () => raw(GiB), { kind: 'sha256', hex }, {}, GiB);
// unsigned trailer chunked: build a 64KiB-chunk body pattern
const chunk = Buffer.concat([Buffer.from('10000\r\n'), piece, Buffer.from('\r\n')]);
function* chunked(total: number) { for (let o = 0; o < total; o += 65536) yield chunk; yield Buffer.from('0\r\n\r\n'); }
await run('aws-chunked unsigned-trailer + crc32', () => chunked(GiB), { kind: 'streaming-unsigned-trailer' }, { 'x-amz-decoded-content-length': String(GiB), 'x-amz-sdk-checksum-algorithm': 'CRC32' }, GiB);
// signed chunked 256 MiB (real signatures)
const data = Buffer.alloc(256 * 1048576, 3);
const key = Buffer.alloc(32, 1);
const body = buildChunkedBody({ mode: 'signed', data, chunkSize: 65536, signing: { signature: 'a'.repeat(64), signingKey: key, timestamp: '20250101T000000Z', scope: '20250101/us-east-1/s3/aws4_request' } });
function* slices() { for (let o = 0; o < body.length; o += 65536) yield body.subarray(o, o + 65536); }
await run('aws-chunked signed (256 MiB)', slices, { kind: 'streaming-signed', trailer: false, seedSignature: 'a'.repeat(64), signingKey: key, timestamp: '20250101T000000Z', scope: '20250101/us-east-1/s3/aws4_request' }, { 'x-amz-decoded-content-length': String(data.length) }, data.length);
clearInterval(timer);
