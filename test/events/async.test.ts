// Async consistency (write-first): a PutObject is answered 202 Accepted with a task id once its
// body and its command are durable; the task consumer applies it through the normal write path;
// GET /_bleepstore/tasks/<id> tells pending, done or failed (with the S3 error).
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ConfigInput } from '../../lib/config.ts';
import { type RawResponse, send, signed } from '../helpers/raw.ts';
import { signRequest } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/event-readers.ts';
import { diskState } from '../helpers/files.ts';

async function taskState(base: string, id: string): Promise<{ state: string; error?: { code: string } }> {
  const r = await send('GET', `${base}/_bleepstore/tasks/${id}`, {});
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text) as { state: string; error?: { code: string } };
}

/** Starts a signed PUT with Expect: 100-continue; `go` sends its body once the server asked for it. */
function heldPut(url: string, body: Buffer, headers: Record<string, string>) {
  const h = signRequest({
    method: 'PUT',
    url,
    body,
    headers: { 'content-length': String(body.length), expect: '100-continue', ...headers },
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
  });
  const u = new URL(url);
  const req = http.request({
    host: u.hostname,
    port: u.port,
    path: u.pathname,
    method: 'PUT',
    headers: h,
    agent: false,
  });
  const asked = new Promise<void>((resolve) => req.once('continue', resolve));
  const answered = new Promise<RawResponse>((resolve, reject) => {
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks),
          text,
          code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
        });
      });
    });
    req.once('error', reject);
  });
  req.flushHeaders();
  return { asked, answered, go: () => req.end(body) };
}

describe('async consistency', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ events: { consistency: 'async' } } as unknown as ConfigInput);
    assert.equal((await signed('PUT', `${s.url}/async-b`, { headers: { 'content-length': '0' } })).status, 200);
  });
  after(async () => await s?.stop());

  test('PutObject answers 202 with a task id; the task goes to done and the object reads back exactly', async () => {
    for (const size of [100, 300_000]) {
      const body = randomBytes(size);
      const r = await signed('PUT', `${s.url}/async-b/k${size}`, {
        body,
        headers: { 'content-length': String(size) },
      });
      assert.equal(r.status, 202, r.text);
      const id = r.headers['x-bleepstore-task-id'] as string;
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.ok(['pending', 'done'].includes((await taskState(s.url, id)).state));
      const done = await waitFor(
        () => taskState(s.url, id),
        (t) => t.state !== 'pending',
      );
      assert.equal(done.state, 'done');
      const back = await signed('GET', `${s.url}/async-b/k${size}`);
      assert.equal(back.status, 200);
      assert.ok(back.body.equals(body), `${size} bytes read back whole`);
      assert.equal(back.headers.etag, r.headers.etag);
    }
  });

  test('a task whose write condition no longer holds fails with PreconditionFailed, and its blob goes', async () => {
    // Both pass If-None-Match: * at admission (neither object exists yet), then both bodies come.
    const url = `${s.url}/async-b/raced`;
    const a = heldPut(url, randomBytes(200_000), { 'if-none-match': '*' });
    const b = heldPut(url, randomBytes(200_000), { 'if-none-match': '*' });
    await Promise.all([a.asked, b.asked]);
    a.go();
    b.go();
    const [ra, rb] = await Promise.all([a.answered, b.answered]);
    assert.equal(ra.status, 202, ra.text);
    assert.equal(rb.status, 202, rb.text);
    const states = await Promise.all(
      [ra, rb].map((r) =>
        waitFor(
          () => taskState(s.url, r.headers['x-bleepstore-task-id'] as string),
          (t) => t.state !== 'pending',
        ),
      ),
    );
    assert.deepEqual(states.map((t) => t.state).sort(), ['done', 'failed']);
    assert.equal(states.find((t) => t.state === 'failed')!.error?.code, 'PreconditionFailed');
    const winner = states[0]!.state === 'done' ? ra : rb;
    assert.equal((await signed('HEAD', url)).headers.etag, winner.headers.etag);
    const disk = await waitFor(
      () => diskState(s.dataDir),
      (d) => d.files.size === d.referenced.size,
    );
    assert.deepEqual([...disk.files].sort(), [...disk.referenced].sort(), "the failed task's blob is removed");
  });

  test('DeleteObject answers 202 with a task id; once done the object is gone', async () => {
    const url = `${s.url}/async-b/doomed`;
    const put = await signed('PUT', url, { body: 'bye', headers: { 'content-length': '3' } });
    assert.equal(put.status, 202);
    const del = await signed('DELETE', url);
    assert.equal(del.status, 202, del.text);
    const id = del.headers['x-bleepstore-task-id'] as string;
    assert.match(id, /^[0-9a-f]{32}$/);
    const done = await waitFor(
      () => taskState(s.url, id),
      (t) => t.state !== 'pending',
    );
    assert.equal(done.state, 'done');
    assert.equal((await signed('GET', url)).status, 404, 'tasks run in order: the PUT, then the DELETE');
  });

  test('on a versioned bucket an async DELETE adds a delete marker; the version stays readable', async () => {
    const xml =
      '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>';
    await signed('PUT', `${s.url}/async-v`, { headers: { 'content-length': '0' } });
    const v = await signed('PUT', `${s.url}/async-v?versioning`, {
      body: xml,
      headers: { 'content-length': String(xml.length) },
    });
    assert.equal(v.status, 200, v.text);
    const url = `${s.url}/async-v/kept`;
    const put = await signed('PUT', url, { body: 'v1', headers: { 'content-length': '2' } });
    assert.equal(put.status, 202);
    const versionId = put.headers['x-amz-version-id'] as string;
    const del = await signed('DELETE', url);
    assert.equal(del.status, 202, del.text);
    assert.equal(del.headers['x-amz-delete-marker'], 'true');
    const done = await waitFor(
      () => taskState(s.url, del.headers['x-bleepstore-task-id'] as string),
      (t) => t.state !== 'pending',
    );
    assert.equal(done.state, 'done');
    assert.equal((await signed('GET', url)).status, 404);
    const old = await signed('GET', `${url}?versionId=${encodeURIComponent(versionId)}`);
    assert.equal(old.status, 200, old.text);
    assert.equal(old.text, 'v1');
  });

  test('a PUT into a missing bucket is refused at once; an unknown task id is 404', async () => {
    const r = await signed('PUT', `${s.url}/no-such-b/k`, { body: 'x', headers: { 'content-length': '1' } });
    assert.equal(r.status, 404);
    assert.equal(r.code, 'NoSuchBucket');
    assert.equal((await send('GET', `${s.url}/_bleepstore/tasks/${'0'.repeat(32)}`, {})).status, 404);
  });
});

describe('async consistency with a full task queue', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ events: { consistency: 'async', max_tasks: 2 } } as unknown as ConfigInput);
    assert.equal((await signed('PUT', `${s.url}/full-b`, { headers: { 'content-length': '0' } })).status, 200);
  });
  after(async () => await s?.stop());

  test('beyond events.max_tasks a PutObject gets 503 SlowDown with Retry-After; below it, 202 again', async () => {
    const held = [0, 1].map((i) => heldPut(`${s.url}/full-b/h${i}`, randomBytes(1000), {}));
    await Promise.all(held.map((h) => h.asked));
    const refused = await signed('PUT', `${s.url}/full-b/third`, { body: 'x', headers: { 'content-length': '1' } });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.code, 'SlowDown');
    assert.equal(refused.headers['retry-after'], '1');
    for (const h of held) h.go();
    for (const h of held) assert.equal((await h.answered).status, 202);
    const later = await waitFor(
      () => signed('PUT', `${s.url}/full-b/third`, { body: 'x', headers: { 'content-length': '1' } }),
      (r) => r.status !== 503,
    );
    assert.equal(later.status, 202, later.text);
  });
});

test('async consistency is refused in cluster mode at start-up, naming the key', async () => {
  await assert.rejects(
    startServer({
      events: { consistency: 'async' },
      cluster: {
        enabled: true,
        node_id: 'n1',
        bind_addr: '127.0.0.1:1',
        secret: 'a-cluster-secret-of-enough-length',
        replicas: 1,
        peers: [{ id: 'n1', addr: '127.0.0.1:1' }],
      },
    } as unknown as ConfigInput),
    /"events\.consistency"/,
  );
});
