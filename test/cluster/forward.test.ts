// The follower's proxy to the leader (lib/cluster/forward.ts) on real sockets: an upstream
// server stamps its answers with stampApplied exactly as the leader does, and the test checks
// when the follower lets its client see the end of the answer.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { FORWARDED_HEADER, Forwarder, stampApplied } from '../../lib/cluster/forward.ts';

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen(handler: http.RequestListener): Promise<number> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const end = Date.now() + 2000; !ok(); await new Promise((r) => setTimeout(r, 5)))
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
}

/** A follower in front of `leaderPort` that records each index it is told to catch up to,
 *  and only resolves the wait once the test lets it. */
async function follower(leaderPort: number) {
  const waited: number[] = [];
  const release: (() => void)[] = [];
  const fwd = new Forwarder('n2');
  const port = await listen((req, res) => {
    void fwd.forward(req, res, '127.0.0.1', leaderPort, 10_000, (index) => {
      waited.push(index);
      return new Promise<void>((r) => release.push(r));
    });
  });
  return { port, waited, release, close: () => fwd.close() };
}

test('a forwarded answer whose head went out before its commit ends only after the follower applied the final index', async () => {
  let applied = 5;
  const leaderPort = await listen((req, res) => {
    assert.equal(req.headers[FORWARDED_HEADER], 'n2');
    stampApplied(res, () => applied);
    // As CompleteMultipartUpload does for a large object: an early 200, whitespace, then the
    // result once the change is committed.
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    setTimeout(() => {
      applied = 9;
      res.end('<CompleteMultipartUploadResult/>');
    }, 50);
  });
  const f = await follower(leaderPort);
  const seen: string[] = [];
  const done = new Promise<string>((resolve, reject) => {
    const r = http.request({ port: f.port, method: 'POST', path: '/b/k?uploadId=u' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        seen.push('end');
        resolve(body);
      });
    });
    r.on('error', reject);
    r.end();
  });
  // The head's index is waited for first and released at once.
  await until('the first catch-up', () => f.waited.length >= 1);
  assert.deepEqual(f.waited, [5]);
  f.release.shift()!();
  await until('a catch-up to the index in the trailer', () => f.waited.length >= 2);
  assert.deepEqual(f.waited, [5, 9]);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, [], 'the client does not see the end before the follower applied index 9');
  f.release.shift()!();
  assert.match(await done, /<CompleteMultipartUploadResult\/>$/);
  f.close();
});

test('a forwarded answer with a length is waited for once, before its head', async () => {
  const leaderPort = await listen((_req, res) => {
    stampApplied(res, () => 7);
    res.writeHead(200, { 'Content-Length': '2' });
    res.end('ok');
  });
  const f = await follower(leaderPort);
  const got = fetch(`http://127.0.0.1:${f.port}/b/k`, { method: 'PUT', body: 'x' });
  await until('the catch-up', () => f.waited.length >= 1);
  f.release.shift()!();
  const res = await got;
  assert.equal(await res.text(), 'ok');
  assert.deepEqual(f.waited, [7]);
  f.close();
});
