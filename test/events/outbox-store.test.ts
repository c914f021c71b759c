// The event outbox inside the metadata store: deleting confirmed rows (MetadataStore.submitLater)
// joins the next write's transaction instead of paying a WAL fsync of its own, yet commits by
// itself after its delay; the per-transaction cache of bucket rules never outlives a rule change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetadataStore, sqlOf } from '../../lib/metadata/sqlite.ts';
import type { Change } from '../../lib/metadata/sqlite.ts';
import type { NotificationRule } from '../../lib/events/notification-config.ts';
import type { Acl } from '../../lib/metadata/types.ts';
import { stamp } from '../helpers/event-stamp.ts';

async function storeWithEvents(n: number): Promise<{ store: MetadataStore; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-outbox-delete-'));
  const store = new MetadataStore({ path: path.join(dir, 'm.db'), durability: 'full', eventTargets: ['q'] });
  for (let i = 0; i < n; i++)
    await store.submit({
      type: 'bucket.create',
      bucket: {
        name: `b${i}`,
        region: 'us-east-1',
        ownerId: 'o',
        ownerDisplay: 'o',
        acl: { owner: { id: 'o', display_name: 'o' }, grants: [] },
        createdAt: stamp.at,
      },
      event: stamp,
    });
  return { store, dir };
}

test('confirmed outbox rows are deleted in the transaction of the next write, not one of their own', async () => {
  const { store, dir } = await storeWithEvents(3);
  try {
    const outbox = store.outbox();
    const seqs = outbox.pending('q', 10).map((r) => r.rowSeq);
    assert.equal(seqs.length, 3);
    const transactions: Array<readonly Change[]> = [];
    store.subscribe((changes) => transactions.push(changes));
    let deleted = false;
    const delivered = outbox.delivered('q', seqs, 5_000).then(() => (deleted = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(deleted, false, 'the deletion waits for a write to join');
    assert.equal(outbox.depth('q').rows, 3);
    await store.submit({ type: 'bucket.delete', name: 'b0', event: stamp });
    await delivered;
    assert.equal(transactions.length, 1, 'one commit carried the write and the deletion');
    assert.deepEqual(
      outbox.pending('q', 10).map((r) => r.event.name),
      ['bleepstore:BucketRemoved'],
    );
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('confirmed outbox rows are deleted by themselves after the delay when no write comes', async () => {
  const { store, dir } = await storeWithEvents(2);
  try {
    const outbox = store.outbox();
    const started = performance.now();
    await outbox.delivered(
      'q',
      outbox.pending('q', 10).map((r) => r.rowSeq),
      50,
    );
    assert.ok(performance.now() - started >= 45);
    assert.equal(outbox.depth('q').rows, 0);
    // Immediate (sync mode): committed at once.
    await store.submit({ type: 'bucket.delete', name: 'b1', event: stamp });
    const [row] = outbox.pending('q', 10);
    await outbox.delivered('q', [row!.rowSeq], 0);
    assert.equal(outbox.depth('q').rows, 0);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('rules changed in the same group commit as an event route that event by the new rules', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-outbox-rules-'));
  const store = new MetadataStore({
    path: path.join(dir, 'm.db'),
    durability: 'full',
    eventTargets: ['q'],
    knownEventTargets: ['q', 'r'],
  });
  try {
    const bucket = {
      name: 'b',
      region: 'us-east-1',
      ownerId: 'o',
      ownerDisplay: 'o',
      acl: { owner: { id: 'o', display_name: 'o' }, grants: [] },
      createdAt: stamp.at,
    };
    await store.submit({ type: 'bucket.create', bucket });
    const acl = { type: 'bucket.acl', name: 'b', acl: bucket.acl, event: stamp } as const;
    const rule: NotificationRule = {
      id: 'to-r',
      kind: 'Queue',
      arn: '',
      target: 'r',
      events: ['*'],
      prefix: '',
      suffix: '',
    };
    // One turn of the event loop: one transaction, each command in its own savepoint.
    await Promise.all([
      store.submit(acl),
      store.submit({ type: 'bucket.notifications', name: 'b', rules: [rule] }),
      store.submit(acl),
      store.submit({ type: 'bucket.notifications', name: 'b', rules: [] }),
      store.submit(acl),
    ]);
    const outbox = store.outbox();
    assert.deepEqual(
      outbox.pending('q', 10).map((r) => r.configurationId),
      ['', ''],
    );
    assert.deepEqual(
      outbox.pending('r', 10).map((r) => r.configurationId),
      ['to-r'],
    );
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('event sequence numbers run on without gaps or reuse across group commits, a rolled-back transaction and a reopen', async () => {
  const { store, dir } = await storeWithEvents(3);
  const file = path.join(dir, 'm.db');
  const ownerOnly: Acl = { owner: { id: 'o', display_name: 'o' }, grants: [] };
  const acl = (name: string) => ({ type: 'bucket.acl', name, acl: ownerOnly, event: stamp }) as const;
  try {
    // One group commit: four events, a refused command (no such bucket) among them.
    await Promise.allSettled([
      store.submit(acl('b0')),
      store.submit({ type: 'bucket.delete', name: 'b1', event: stamp }),
      store.submit({ type: 'object.acl', bucket: 'nope', key: 'k', acl: ownerOnly, event: stamp }),
      store.submit(acl('b2')),
    ]);
    // A transaction that wrote events and then failed leaves no trace in the numbering.
    await assert.rejects(
      store.atomically(async (s) => {
        s.apply(acl('b0'));
        s.apply(acl('b2'));
        throw new Error('abandoned');
      }),
      /abandoned/,
    );
    await store.submit(acl('b0'));
  } finally {
    store.close();
  }
  const reopened = new MetadataStore({ path: file, durability: 'full', eventTargets: ['q'] });
  try {
    await reopened.submit(acl('b2'));
    const seqs = reopened
      .outbox()
      .pending('q', 100)
      .map((r) => r.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 8 }, (_, i) => seqs[0]! + i),
    );
  } finally {
    reopened.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('outbox rows of an older version (the event as an object) are still read and delivered', async () => {
  const { store, dir } = await storeWithEvents(1);
  try {
    const old = {
      seq: 999,
      name: 's3:ObjectCreated:Put',
      time: stamp.at,
      bucket: 'b0',
      region: 'us-east-1',
      requestId: 'r-old',
      principal: 'o',
      bucketOwner: 'p',
      sourceIp: '127.0.0.1',
      key: 'k',
      size: 3,
      etag: 'abc',
    };
    sqlOf(store)
      .q('INSERT INTO event_outbox (target, seq, config_id, event) VALUES (?, ?, ?, ?)')
      .run('q', 999, '', JSON.stringify(old));
    const [fresh, legacy] = store.outbox().pending('q', 10);
    assert.deepEqual(legacy!.event, old);
    assert.deepEqual(fresh!.event, {
      seq: fresh!.seq,
      name: 'bleepstore:BucketCreated',
      time: stamp.at,
      bucket: 'b0',
      region: 'us-east-1',
      requestId: 'r',
      principal: 'o',
      bucketOwner: 'o',
      sourceIp: '127.0.0.1',
    });
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('one group commit stores its events as one outbox row per target, delivered and trimmed as a whole', async () => {
  const { store, dir } = await storeWithEvents(1);
  const ownerOnly: Acl = { owner: { id: 'o', display_name: 'o' }, grants: [] };
  const acl = (name: string) => ({ type: 'bucket.acl', name, acl: ownerOnly, event: stamp }) as const;
  try {
    const rowsOf = () =>
      sqlOf(store).q('SELECT seq, n FROM event_outbox WHERE target = ? ORDER BY seq').all('q') as Array<{
        seq: number;
        n: number;
      }>;
    // One turn of the event loop: one transaction; the refused command's event is not stored.
    await Promise.allSettled([
      store.submit(acl('b0')),
      store.submit({ type: 'object.acl', bucket: 'nope', key: 'k', acl: ownerOnly, event: stamp }),
      store.submit(acl('b0')),
      store.submit(acl('b0')),
    ]);
    const outbox = store.outbox();
    const [first, group] = [rowsOf()[0]!, rowsOf()[1]!];
    assert.deepEqual(
      rowsOf().map((r) => r.n),
      [1, 3],
    );
    const events = outbox.pending('q', 2);
    assert.deepEqual(
      events.map((e) => [e.seq, e.rowSeq]),
      [
        [first.seq, first.seq],
        [group.seq, group.seq],
        [group.seq + 1, group.seq],
        [group.seq + 2, group.seq],
      ],
      'a read stops only after a whole row',
    );
    assert.equal(outbox.depth('q').rows, 4);
    await outbox.delivered('q', [first.seq], 0);
    assert.deepEqual(
      outbox.pending('q', 10).map((e) => e.seq),
      [group.seq, group.seq + 1, group.seq + 2],
    );
    await store.submit(acl('b0'));
    // Keeping 1 event keeps the newest row, and reports the 3 events that went.
    assert.equal(await outbox.trim('q', 1), 3);
    assert.equal(outbox.depth('q').rows, 1);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
