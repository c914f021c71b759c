import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { HttpTransport, type HttpTransportOptions } from '../../lib/cluster/transport-http.ts';
import { encodeMessage, message, type Message, type NodeId } from '../../lib/cluster/raft/index.ts';
import {
  CLUSTER_PROTOCOL,
  MAC_HEADER,
  PROTOCOL_HEADER,
  peerHeaders,
  signHeaders,
  TIME_HEADER,
} from '../../lib/cluster/peer-auth.ts';
import { deadPort } from '../helpers/net.ts';
import { answerBeforeBody } from '../helpers/partial-request.ts';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { sliceParts, snapshotWire } from '../../lib/cluster/snapshot-file.ts';
import { refOf } from '../../lib/cluster/snapshot-data.ts';

const SECRET = 'transport-test-secret-0123456789';
const open: Array<{ close: () => Promise<void> }> = [];
after(() => Promise.all(open.map((o) => o.close())));

async function node(id: NodeId, extra: Partial<HttpTransportOptions> = {}) {
  const got: Message[] = [];
  const unreachable: NodeId[] = [];
  const snaps: Array<[NodeId, string]> = [];
  const t = new HttpTransport({
    id,
    secret: SECRET,
    host: '127.0.0.1',
    port: 0,
    onMessages: (m) => got.push(...m),
    onUnreachable: (p) => unreachable.push(p),
    onSnapshotStatus: (p, s) => snaps.push([p, s]),
    ...extra,
  });
  await t.listen();
  open.push(t);
  return { t, got, unreachable, snaps, addr: t.address() };
}

const app = (from: NodeId, to: NodeId, i: number, data = new Uint8Array([i & 255])): Message =>
  message('MsgApp', { from, to, term: 1, index: i, entries: [{ term: 1, index: i + 1, type: 'normal', data }] });

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A peer that accepts connections and never answers: the slowest possible peer. */
async function blackHole(): Promise<{ addr: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const srv = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  open.push({
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  });
  return {
    addr: `127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function post(addr: string, path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port: Number(port),
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('Raft messages reach the peer in order, in both directions, over keep-alive HTTP', async () => {
  const a = await node(1);
  const b = await node(2);
  a.t.setPeer(2, b.addr);
  b.t.setPeer(1, a.addr);
  for (let i = 0; i < 500; i++) a.t.send(2, app(1, 2, i));
  b.t.send(1, message('MsgAppResp', { from: 2, to: 1, term: 1, index: 7 }));
  await until(() => b.got.length === 500 && a.got.length === 1);
  assert.deepEqual(
    b.got.map((m) => m.index),
    [...Array(500).keys()],
  );
  assert.deepEqual(b.got[3]!.entries[0]!.data, new Uint8Array([3]));
  assert.equal(a.got[0]!.type, 'MsgAppResp');
  await until(() => a.t.stats().get(2)!.sent === 500);
  await Promise.all([a.t.close(), b.t.close()]);
});

test("a peer's replies to a batch (append acks) come back on that request's response, not as requests of its own", async () => {
  const a = await node(1, { askReplies: true });
  let bt: HttpTransport | undefined;
  const b = await node(2, {
    // What a node's Ready loop does: handling an append sends the ack to its sender at once.
    onMessages: (msgs) => {
      for (const m of msgs) bt!.send(1, message('MsgAppResp', { from: 2, to: 1, term: 1, index: m.index + 1 }));
    },
  });
  bt = b.t;
  a.t.setPeer(2, b.addr);
  b.t.setPeer(1, a.addr);
  for (let i = 0; i < 50; i++) a.t.send(2, app(1, 2, i));
  await until(() => a.got.length === 50);
  assert.deepEqual(
    a.got.map((m) => [m.type, m.index]),
    [...Array(50).keys()].map((i) => ['MsgAppResp', i + 1]),
  );
  assert.equal(b.t.stats().get(1)!.sent, 0, 'node 2 made no request of its own to node 1');
  await Promise.all([a.t.close(), b.t.close()]);
});

test('a request with a wrong secret, a stale time or no MAC is refused with 401 and never delivered', async () => {
  const b = await node(2);
  const body = Buffer.from(encodeMessage(app(1, 2, 1)));
  const path = '/raft/messages?from=1';
  const wrong = signHeaders('some-other-secret-entirely', 'POST', path, body);
  assert.equal(await post(b.addr, path, body, wrong), 401);
  const stale = signHeaders(SECRET, 'POST', path, body, Date.now() - 120_000);
  assert.equal(await post(b.addr, path, body, stale), 401);
  assert.equal(await post(b.addr, path, body, {}), 401);
  const good = signHeaders(SECRET, 'POST', path, body);
  const tampered = Buffer.from(body);
  tampered[tampered.length - 2]! ^= 1;
  assert.equal(await post(b.addr, path, tampered, good), 401);
  assert.equal(await post(b.addr, '/raft/messages?from=3', body, good), 401, 'the path is covered by the MAC');
  assert.deepEqual(b.t.refused, { missing: 1, stale: 1, 'bad-mac': 3, protocol: 0 });
  assert.equal(b.got.length, 0);
  // A transport configured with another secret gets nothing through either.
  const intruder = await node(9, { secret: 'some-other-secret-entirely' });
  intruder.t.setPeer(2, b.addr);
  intruder.t.send(2, app(9, 2, 1));
  await until(() => intruder.unreachable.length > 0);
  assert.equal(b.got.length, 0);
  assert.equal(await post(b.addr, path, body, good), 204, 'the right secret still works');
  await Promise.all([b.t.close(), intruder.t.close()]);
});

test('a dead peer and a peer that never answers do not delay messages to a healthy one', async () => {
  const hole = await blackHole();
  const a = await node(1, { timeoutMs: 1000 });
  const b = await node(2);
  a.t.setPeer(2, b.addr);
  a.t.setPeer(3, `127.0.0.1:${await deadPort()}`);
  a.t.setPeer(4, hole.addr);
  const started = Date.now();
  for (let i = 0; i < 20; i++) {
    a.t.send(3, app(1, 3, i));
    a.t.send(4, app(1, 4, i));
    a.t.send(2, app(1, 2, i));
  }
  await until(() => b.got.length === 20);
  const took = Date.now() - started;
  assert.ok(took < 500, `healthy peer served in ${took} ms`);
  await until(() => a.unreachable.includes(3) && a.unreachable.includes(4), 3000);
  assert.ok(a.t.stats().get(3)!.failures >= 1);
  await Promise.all([a.t.close(), b.t.close(), hole.close()]);
});

test('the queue for a peer that never answers stays bounded, dropping the oldest messages', async () => {
  const hole = await blackHole();
  const a = await node(1, { queueLimit: 100, timeoutMs: 60_000 });
  a.t.setPeer(4, hole.addr);
  for (let i = 0; i < 5000; i++) a.t.send(4, app(1, 4, i));
  const s = a.t.stats().get(4)!;
  assert.equal(s.queued, 100);
  assert.equal(s.dropped, 5000 - 100 - 1, 'one batch in flight, 100 queued, the rest dropped');
  await Promise.all([a.t.close(), hole.close()]);
});

test('a snapshot travels in chunks, arrives whole, and its outcome is reported to the sender', async () => {
  const a = await node(1, { snapshotChunkBytes: 256 * 1024 });
  const b = await node(2);
  a.t.setPeer(2, b.addr);
  a.t.setPeer(3, `127.0.0.1:${await deadPort()}`);
  const data = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 255;
  const snap = (to: NodeId) =>
    message('MsgSnap', {
      from: 1,
      to,
      term: 2,
      snapshot: { metadata: { index: 100, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data },
    });
  a.t.send(2, snap(2));
  a.t.send(2, app(1, 2, 1)); // heartbeats and appends are not held up by the snapshot lane
  a.t.send(3, snap(3));
  await until(() => a.snaps.length === 2);
  assert.deepEqual(a.snaps.sort(), [
    [2, 'finish'],
    [3, 'failure'],
  ]);
  const got = b.got.find((m) => m.type === 'MsgSnap')!;
  assert.equal(got.snapshot!.metadata.index, 100);
  assert.deepEqual(got.snapshot!.data, data);
  await Promise.all([a.t.close(), b.t.close()]);
});

test('a snapshot whose state is a file is read from it chunk by chunk and arrives as a kept file its message refers to', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-snapfile-'));
  open.push({ close: async () => rmSync(dir, { recursive: true, force: true }) });
  const chunkBytes = 64 * 1024;
  const a = await node(1, { snapshotChunkBytes: chunkBytes });
  const b = await node(2, { snapshotDir: path.join(dir, 'in'), snapshotChunkBytes: chunkBytes });
  a.t.setPeer(2, b.addr);
  const state = randomBytes(1024 * 1024 + 3);
  const file = path.join(dir, 'copy.db');
  writeFileSync(file, state);
  const head = Buffer.from('the member directory');
  const msg = message('MsgSnap', {
    from: 1,
    to: 2,
    term: 4,
    snapshot: { metadata: { index: 77, term: 4, confState: { voters: [1, 2], learners: [] } }, data: head },
  });
  await a.t.sendSnapshotFile(2, msg, file);
  assert.deepEqual(a.snaps, [[2, 'finish']]);
  const got = b.got.find((m) => m.type === 'MsgSnap')!;
  assert.equal(got.snapshot!.metadata.index, 77);
  const data = Buffer.from(got.snapshot!.data);
  assert.ok(data.subarray(0, head.length).equals(head), 'the head arrives as the data');
  const kept = refOf(data.subarray(head.length));
  assert.ok(kept, 'followed by a reference to the state file');
  assert.ok(readFileSync(kept).equals(state), 'which holds the state, byte-exact');
  assert.deepEqual(readdirSync(path.join(dir, 'in')), [path.basename(kept)], 'no partial files left');
  await Promise.all([a.t.close(), b.t.close()]);
});

test('an incoming snapshot is written to a file chunk by chunk, handed over whole, and its files removed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-snapin-'));
  open.push({ close: async () => rmSync(dir, { recursive: true, force: true }) });
  const chunkBytes = 64 * 1024;
  const b = await node(2, { snapshotDir: dir, snapshotChunkBytes: chunkBytes, maxSnapshotBytes: 2 * 1024 * 1024 });
  const data = randomBytes(1024 * 1024 + 5);
  const msg = message('MsgSnap', {
    from: 1,
    to: 2,
    term: 3,
    snapshot: { metadata: { index: 42, term: 3, confState: { voters: [1, 2], learners: [] } }, data },
  });
  const parts = snapshotWire(msg);
  const size = parts.reduce((a, p) => a + p.length, 0);
  const total = Math.ceil(size / chunkBytes);
  assert.ok(total > 10, 'many chunks');
  const chunk = async (
    id: string,
    seq: number,
    n = total,
    body = sliceParts(parts, seq * chunkBytes, (seq + 1) * chunkBytes),
  ) => {
    const p = `/raft/snapshot?from=1&id=${id}&seq=${seq}&total=${n}`;
    return post(b.addr, p, body, signHeaders(SECRET, 'POST', p, body));
  };
  for (let i = 0; i < total - 1; i++) assert.equal(await chunk('s1', i), 204);
  // Before the last chunk: the bytes so far are in a file, not handed to Raft.
  const partial = readdirSync(dir);
  assert.deepEqual(partial, ['1-s1.part']);
  assert.equal(statSync(path.join(dir, partial[0]!)).size, (total - 1) * chunkBytes);
  assert.equal(b.got.length, 0);
  assert.equal(await chunk('s1', total - 1), 204);
  await until(() => b.got.length === 1);
  const got = b.got[0]!;
  assert.equal(got.type, 'MsgSnap');
  assert.equal(got.snapshot!.metadata.index, 42);
  assert.ok(Buffer.from(got.snapshot!.data).equals(data), 'byte-exact');
  assert.deepEqual(readdirSync(dir), [], 'nothing left behind');

  // A resend starting over drops the old file; one over maxSnapshotBytes is refused and removed.
  assert.equal(await chunk('s2', 0), 204);
  assert.equal(await chunk('s3', 0, 64), 204);
  assert.deepEqual(readdirSync(dir), ['1-s3.part']);
  const big = Buffer.alloc(chunkBytes);
  let status = 204;
  for (let i = 1; i < 64 && status === 204; i++) status = await chunk('s3', i, 64, big);
  assert.equal(status, 413);
  assert.deepEqual(readdirSync(dir), []);
  await b.t.close();
});

test('a request body over the bound is refused with 413 before it is buffered whole', async () => {
  const b = await node(2, { maxBodyBytes: 64 * 1024 });
  const body = Buffer.alloc(65 * 1024, 1);
  const path = '/raft/messages?from=1';
  assert.equal(await post(b.addr, path, body, signHeaders(SECRET, 'POST', path, body)), 413);
  assert.equal(b.got.length, 0);
  const snapPath = '/raft/snapshot?from=1&id=x&seq=1&total=2';
  const chunk = Buffer.from('x');
  assert.equal(
    await post(b.addr, snapPath, chunk, signHeaders(SECRET, 'POST', snapPath, chunk)),
    409,
    'a chunk out of order is refused',
  );
  await b.t.close();
});

test('a peer of another cluster protocol version, or an older one that sends none, is refused naming both versions', async () => {
  const refusals: string[] = [];
  const b = await node(2, { onRefused: (why, detail) => refusals.push(`${why}: ${detail}`) });
  const body = Buffer.from(encodeMessage(app(1, 2, 1)));
  const path = '/raft/messages?from=1';
  // What a node of protocol 2 would send: its version in the header and in the MAC.
  const time = String(Date.now());
  const future = {
    [PROTOCOL_HEADER]: String(CLUSTER_PROTOCOL + 1),
    [TIME_HEADER]: time,
    [MAC_HEADER]: createHmac('sha256', SECRET)
      .update(`bleepstore-cluster/${CLUSTER_PROTOCOL + 1}\nPOST\n${path}\n${time}\n`)
      .update(body)
      .digest('hex'),
  };
  assert.equal(await post(b.addr, path, body, future), 401);
  // What a node from before protocol versions sent: time and MAC, no version anywhere.
  const older = {
    [TIME_HEADER]: time,
    [MAC_HEADER]: createHmac('sha256', SECRET).update(`POST\n${path}\n${time}\n`).update(body).digest('hex'),
  };
  assert.equal(await post(b.addr, path, body, older), 401);
  assert.equal(b.got.length, 0);
  assert.equal(b.t.refused.protocol, 2);
  assert.match(
    refusals[0]!,
    new RegExp(`^protocol: the peer speaks cluster protocol ${CLUSTER_PROTOCOL + 1} and this node ${CLUSTER_PROTOCOL}`),
  );
  assert.match(refusals[1]!, /^protocol: the peer sent no cluster protocol version/);
  // The version is in the MAC too: a request claiming this node's version (with a good
  // request-line MAC) whose body MAC was made for another cannot pass.
  const claimed = { ...peerHeaders(SECRET, 'POST', path, time), [MAC_HEADER]: older[MAC_HEADER] };
  assert.equal(await post(b.addr, path, body, claimed), 401);
  assert.equal(b.t.refused['bad-mac'], 1);
  assert.equal(await post(b.addr, path, body, signHeaders(SECRET, 'POST', path, body)), 204);
  await b.t.close();
});

test('a request without a valid request-line MAC is refused before its body is read, so a stranger cannot make a node buffer 16 MiB', async () => {
  const b = await node(2);
  const path = '/raft/messages?from=1';
  const time = String(Date.now());
  const declared = 15 << 20;
  // A well-formed body MAC header (checked only once the body is in) but no request-line MAC,
  // then one made with another secret.
  const bodyMac = { [PROTOCOL_HEADER]: String(CLUSTER_PROTOCOL), [TIME_HEADER]: time, [MAC_HEADER]: 'ab'.repeat(32) };
  assert.equal(await answerBeforeBody(b.addr, 'POST', path, bodyMac, declared, 64 << 10), 401);
  const wrong = { ...peerHeaders('some-other-secret-entirely', 'POST', path, time), [MAC_HEADER]: 'ab'.repeat(32) };
  assert.equal(await answerBeforeBody(b.addr, 'POST', path, wrong, declared, 64 << 10), 401);
  assert.equal(b.t.refused.missing, 1);
  assert.equal(b.t.refused['bad-mac'], 1);
  // A peer with the secret is still waited for (its body MAC is checked once the body is in).
  const good = { ...peerHeaders(SECRET, 'POST', path, time), [MAC_HEADER]: 'ab'.repeat(32) };
  assert.equal(await answerBeforeBody(b.addr, 'POST', path, good, declared, 64 << 10, 500), undefined);
  await b.t.close();
});
