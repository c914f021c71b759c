import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalStorage } from '../../lib/storage/local.ts';
import { BLOB_PATH, BlobReplication } from '../../lib/cluster/blob-replication.ts';
import { HttpTransport } from '../../lib/cluster/transport-http.ts';
import { deadPort } from '../helpers/net.ts';
import { storeBlob } from '../helpers/store-blob.ts';
import { answerBeforeBody } from '../helpers/partial-request.ts';
import { peerHeaders, PROTOCOL_HEADER, CLUSTER_PROTOCOL, TIME_HEADER } from '../../lib/cluster/peer-auth.ts';

const SECRET = 'blob-test-secret-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-blobs-'));
const closers: Array<() => Promise<void> | void> = [];
after(() => Promise.all(closers.map((c) => c())));

async function peer(name: string, secret = SECRET) {
  const storage = new LocalStorage(path.join(dir, name));
  await storage.init();
  const blobs = new BlobReplication({ storage, secret, timeoutMs: 5000 });
  const t = new HttpTransport({
    id: 1,
    secret,
    host: '127.0.0.1',
    port: 0,
    onMessages: () => {},
    streamRoutes: { [BLOB_PATH]: (req, res) => blobs.handle(req, res) },
  });
  await t.listen();
  closers.push(
    () => t.close(),
    () => blobs.close(),
  );
  return { storage, blobs, addr: t.address() };
}

test('a blob is pushed to peers, fsynced there under the same id, and the push resolves once enough peers hold it', async () => {
  const [a, b, c] = [await peer('a'), await peer('b'), await peer('c')];
  const bytes = randomBytes(5 * 1024 * 1024 + 3);
  const id = await storeBlob(a.storage, bytes);
  const got = await a.blobs.replicate(id, [b.addr, c.addr], 2);
  assert.deepEqual(got.sort(), [b.addr, c.addr].sort());
  for (const p of [b, c]) assert.deepEqual(readFileSync(p.storage.pathOf(id)), bytes);
  assert.deepEqual(await a.blobs.replicate(id, [b.addr], 1), [b.addr], 'a second push of an immutable blob is a no-op');

  const dead = `127.0.0.1:${await deadPort()}`;
  const id2 = await storeBlob(a.storage, randomBytes(1000));
  assert.deepEqual(
    await a.blobs.replicate(id2, [dead, b.addr], 1),
    [b.addr],
    'a dead peer does not stop a reachable majority',
  );
  await assert.rejects(a.blobs.replicate(id2, [dead, c.addr], 2), /of the 2 peers it needs/);
});

test('a peer with another secret cannot plant a blob, and nothing is left behind', async () => {
  const b = await peer('b2');
  const intruder = await peer('intruder', 'not-the-cluster-secret-at-all-xx');
  const id = await storeBlob(intruder.storage, randomBytes(200_000));
  await assert.rejects(intruder.blobs.replicate(id, [b.addr], 1), /401/);
  assert.equal(await b.storage.exists(id), false);
  assert.deepEqual(readdirSync(b.storage.tmpDir), []);
  assert.equal(await intruder.blobs.fetch(id, [b.addr]), false);
});

test('a node fetches a blob it lacks from the first peer that has it, verifies it and keeps it', async () => {
  const [a, c] = [await peer('fa'), await peer('fc')];
  const bytes = randomBytes(3 * 1024 * 1024);
  const id = await storeBlob(a.storage, bytes);
  const dead = `127.0.0.1:${await deadPort()}`;
  assert.equal(await c.blobs.fetch(id, [dead, a.addr]), true);
  assert.deepEqual(readFileSync(c.storage.pathOf(id)), bytes);
  assert.equal(await c.blobs.fetch('0'.repeat(32), [a.addr]), false, 'nobody has it');
});

test('a push to a peer that already holds the blob stops sending its bytes once the peer answers, and the next push works', async () => {
  const [a, b] = [await peer('sa'), await peer('sb')];
  const size = 32 * 1024 * 1024;
  const id = await storeBlob(a.storage, randomBytes(size));
  await a.blobs.replicate(id, [b.addr], 1);
  // What the second push reads of the source, and that the source closes (no socket left
  // stuck behind a peer that stopped reading).
  const openRead = a.storage.openRead.bind(a.storage);
  let read = 0;
  let closed: Promise<void> | undefined;
  a.storage.openRead = async (...args: Parameters<typeof openRead>) => {
    const s = await openRead(...args);
    s.on('data', (c: Buffer) => (read += c.length));
    closed = new Promise((r) => s.once('close', () => r()));
    return s;
  };
  assert.deepEqual(await a.blobs.replicate(id, [b.addr], 1), [b.addr]);
  const ended = await Promise.race([closed!.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
  assert.ok(ended, 'the source of a push the peer already answered is still open after 10 s');
  assert.ok(read < size / 4, `the push read ${read} of ${size} bytes after the peer said it had them`);
  a.storage.openRead = openRead;
  const id2 = await storeBlob(a.storage, randomBytes(300_000));
  assert.deepEqual(await a.blobs.replicate(id2, [b.addr], 1), [b.addr]);
  assert.equal(await b.storage.exists(id2), true);
});

test('a blob push whose request line is not signed with the secret is refused before a byte is staged', async () => {
  const b = await peer('unsigned');
  const url = `${BLOB_PATH}${'c'.repeat(32)}`;
  const time = String(Date.now());
  const declared = 64 << 20;
  const unsigned = { [PROTOCOL_HEADER]: String(CLUSTER_PROTOCOL), [TIME_HEADER]: time };
  assert.equal(await answerBeforeBody(b.addr, 'PUT', url, unsigned, declared, 1 << 20), 401);
  const stranger = peerHeaders('not-the-cluster-secret-at-all-xx', 'PUT', url, time);
  assert.equal(await answerBeforeBody(b.addr, 'PUT', url, stranger, declared, 1 << 20), 401);
  assert.deepEqual(readdirSync(b.storage.tmpDir), [], 'nothing staged');
});
