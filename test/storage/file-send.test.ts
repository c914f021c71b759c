// A blob's bytes sent through reused buffers (lib/storage/file-send.ts), over a real HTTP
// server and client: exact bytes for ranges that start, end and cross the 256 KiB buffers, and
// a client that goes away mid-body ends the send instead of leaving it waiting.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { sendFileRange } from '../../lib/storage/file-send.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-file-send-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CHUNK = 256 * 1024;
const bytes = randomBytes(3 * CHUNK + 12_345);
const file = path.join(dir, 'blob');
writeFileSync(file, bytes);

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((r) => srv.close(() => r())) };
}

test('sendFileRange sends exactly bytes [start, end] for ranges within, across and at the ends of its buffers', async () => {
  let range = { start: 0, end: 0 };
  const s = await serve(async (_req, res) => {
    const fh = await open(file, 'r');
    res.writeHead(200, { 'content-length': String(range.end - range.start + 1) });
    try {
      await sendFileRange(fh, range.start, range.end, res);
    } finally {
      await fh.close();
    }
  });
  const cases = [
    [0, bytes.length - 1],
    [0, 0],
    [CHUNK - 1, CHUNK],
    [1, 2 * CHUNK + 7],
    [bytes.length - 10, bytes.length - 1],
    [CHUNK, 2 * CHUNK - 1],
  ];
  for (const [start, end] of cases) {
    range = { start: start!, end: end! };
    const got = Buffer.from(await (await fetch(s.url)).arrayBuffer());
    assert.ok(got.equals(bytes.subarray(start, end! + 1)), `bytes ${start}-${end}`);
  }
  await s.close();
});

test('sendFileRange rejects, without hanging, when the client goes away mid-body', async () => {
  const big = path.join(dir, 'big');
  writeFileSync(big, Buffer.alloc(64 * 1024 * 1024, 7));
  let outcome: Promise<unknown> | undefined;
  const s = await serve(async (_req, res) => {
    const fh = await open(big, 'r');
    res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
    outcome = sendFileRange(fh, 0, 64 * 1024 * 1024 - 1, res).finally(() => fh.close());
  });
  await new Promise<void>((resolve) => {
    const req = http.get(s.url, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
  });
  await assert.rejects(
    Promise.race([outcome!, new Promise((_, reject) => setTimeout(() => reject(new Error('still sending')), 5000))]),
    (e: NodeJS.ErrnoException) => e.code === 'ERR_STREAM_PREMATURE_CLOSE' || /EPIPE|ECONNRESET/.test(String(e.code)),
  );
  await s.close();
});
