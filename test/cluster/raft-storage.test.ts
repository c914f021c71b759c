// The storage contract the Raft core relies on, checked against both implementations, and
// the SQLite one across close and reopen: it must give back exactly what was persisted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { SqliteRaftStorage } from '../../lib/cluster/raft-storage-sqlite.ts';
import { MemoryStorage } from '../../lib/cluster/raft/memory-storage.ts';
import { RaftNode } from '../../lib/cluster/raft/raft-node.ts';
import { message } from '../../lib/cluster/raft/raft.ts';
import { decodeMessage, encodeMessage } from '../../lib/cluster/raft/codec.ts';
import { RaftStorageError, type Entry, type WritableRaftStorage } from '../../lib/cluster/raft/types.ts';
import { InMemoryTransport } from '../../lib/cluster/transport.ts';
import { RaftNetwork, bytes, seeded, text } from './helpers/raft-network.ts';

const dir = mkdtempSync(join(tmpdir(), 'raft-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;
const dbPath = (): string => join(dir, `raft-${++dbs}.db`);

function ents(from: number, terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: from + i,
    type: 'normal' as const,
    data: bytes(`t${term}i${from + i}`),
  }));
}

function dataOf(s: WritableRaftStorage, lo: number, hi: number): string[] {
  return s.entries(lo, hi, Number.MAX_SAFE_INTEGER).map((e) => text(e.data));
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RaftStorageError) return err.code;
    throw err;
  }
  return undefined;
}

const KINDS: [string, () => WritableRaftStorage][] = [
  ['MemoryStorage', () => new MemoryStorage({ voters: [1, 2, 3] })],
  ['SqliteRaftStorage', () => new SqliteRaftStorage({ path: dbPath(), voters: [1, 2, 3] })],
];

for (const [name, make] of KINDS) {
  describe(`${name} storage contract`, () => {
    test(`${name}: an empty log has firstIndex 1, lastIndex 0 and term 0 at index 0`, () => {
      const s = make();
      assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(0)], [1, 0, 0]);
      assert.equal(
        code(() => s.term(1)),
        'unavailable',
      );
      assert.deepEqual(s.initialState(), {
        hardState: { term: 0, vote: 0, commit: 0 },
        confState: { voters: [1, 2, 3], learners: [] },
      });
    });

    test(`${name}: appended entries come back by range, limited by size but never to zero entries`, () => {
      const s = make();
      s.append(ents(1, [1, 1, 2, 2, 2]));
      assert.deepEqual(dataOf(s, 2, 4), ['t1i2', 't2i3']);
      assert.equal(s.entries(1, 6, 40).length, 2); // 20 bytes per entry in size accounting
      assert.equal(s.entries(1, 6, 1).length, 1);
      assert.equal(s.term(4), 2);
      assert.equal(
        code(() => s.entries(1, 7, 100)),
        'unavailable',
      );
    });

    test(`${name}: appending at an index already stored truncates the conflicting suffix`, () => {
      const s = make();
      s.append(ents(1, [1, 1, 1, 1, 1]));
      s.append(ents(3, [2]));
      assert.equal(s.lastIndex(), 3);
      assert.deepEqual(dataOf(s, 1, 4), ['t1i1', 't1i2', 't2i3']);
      assert.equal(
        code(() => s.append(ents(5, [2]))),
        'unavailable',
      ); // a gap
    });

    test(`${name}: compaction keeps the term of the compaction point and refuses older ranges`, () => {
      const s = make();
      s.append(ents(1, [1, 1, 2, 2, 3]));
      s.createSnapshot(3, { voters: [1, 2, 3], learners: [] }, bytes('S'));
      s.compact(3);
      assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(3)], [4, 5, 2]);
      assert.equal(
        code(() => s.term(2)),
        'compacted',
      );
      assert.equal(
        code(() => s.entries(3, 5, 100)),
        'compacted',
      );
      assert.deepEqual(dataOf(s, 4, 6), ['t2i4', 't3i5']);
      assert.deepEqual(s.snapshot().metadata, { index: 3, term: 2, confState: { voters: [1, 2, 3], learners: [] } });
      assert.equal(
        code(() => s.createSnapshot(2, { voters: [1], learners: [] }, bytes(''))),
        'snapshotOutOfDate',
      );
    });

    test(`${name}: installing a snapshot replaces the log and the membership; an older one is refused`, () => {
      const s = make();
      s.append(ents(1, [1, 1, 1]));
      s.save({
        entries: [],
        snapshot: {
          metadata: { index: 10, term: 4, confState: { voters: [1, 2], learners: [5] } },
          data: bytes('snap'),
        },
      });
      assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(10)], [11, 10, 4]);
      assert.equal(text(s.snapshot().data), 'snap');
      assert.deepEqual(s.initialState().confState, { voters: [1, 2], learners: [5] });
      s.append(ents(11, [4, 5]));
      assert.deepEqual(dataOf(s, 11, 13), ['t4i11', 't5i12']);
      assert.equal(
        code(() =>
          s.applySnapshot({
            metadata: { index: 9, term: 4, confState: { voters: [1], learners: [] } },
            data: bytes(''),
          }),
        ),
        'snapshotOutOfDate',
      );
    });

    test(`${name}: save persists snapshot, entries and hard state of one Ready`, () => {
      const s = make();
      s.save({ entries: ents(1, [1, 1]), hardState: { term: 1, vote: 2, commit: 1 } });
      assert.deepEqual(s.initialState().hardState, { term: 1, vote: 2, commit: 1 });
      assert.equal(s.lastIndex(), 2);
    });
  });
}

describe('SqliteRaftStorage log cache', () => {
  // The storage answers term() and entries() from memory for the newest entries (log-cache.ts).
  // Random appends (with overwritten suffixes, paper §5.3), compactions and reopens, checked
  // against MemoryStorage after every step, with a cache smaller than the log and one larger.
  for (const cacheBytes of [300, 1 << 20]) {
    test(`term and entries match MemoryStorage through 1,500 random appends, truncations, compactions and reopens (cache ${cacheBytes} B)`, () => {
      const rnd = seeded(cacheBytes);
      const path = dbPath();
      let s = new SqliteRaftStorage({ path, cachedEntryBytes: cacheBytes });
      const m = new MemoryStorage();
      let term = 1;
      let checks = 0;
      for (let step = 0; step < 1500; step++) {
        const r = rnd();
        const last = m.lastIndex();
        const first = m.firstIndex();
        if (r < 0.6) {
          // An append at the end, or over a suffix (never before the first stored index).
          const from = rnd() < 0.25 && last >= first ? first + Math.floor(rnd() * (last - first + 1)) : last + 1;
          if (rnd() < 0.2) term++;
          const n = 1 + Math.floor(rnd() * 5);
          const batch = ents(
            from,
            Array.from({ length: n }, () => term),
          );
          s.append(batch.map((e) => ({ ...e })));
          m.append(batch);
        } else if (r < 0.7 && last > first) {
          const at = first + Math.floor(rnd() * (last - first));
          s.compact(at);
          m.compact(at);
        } else if (r < 0.73) {
          s.close();
          s = new SqliteRaftStorage({ path, cachedEntryBytes: cacheBytes });
        }
        assert.deepEqual([s.firstIndex(), s.lastIndex()], [m.firstIndex(), m.lastIndex()]);
        for (let i = m.firstIndex() - 1; i <= m.lastIndex(); i++)
          assert.equal(s.term(i), m.term(i), `term(${i}) at step ${step}`);
        const lo = m.firstIndex() + Math.floor(rnd() * (m.lastIndex() - m.firstIndex() + 1));
        const hi = lo + Math.floor(rnd() * (m.lastIndex() + 2 - lo));
        const max = rnd() < 0.5 ? Number.MAX_SAFE_INTEGER : 40;
        assert.deepEqual(
          s.entries(lo, hi, max).map((e) => [e.index, e.term, text(e.data)]),
          m.entries(lo, hi, max).map((e) => [e.index, e.term, text(e.data)]),
          `entries(${lo}, ${hi}) at step ${step}`,
        );
        checks++;
      }
      s.close();
      assert.equal(checks, 1500);
    });
  }
});

describe('SqliteRaftStorage durability', () => {
  test('SqliteRaftStorage uses WAL with synchronous=FULL', () => {
    const path = dbPath();
    new SqliteRaftStorage({ path }).close();
    const db = new DatabaseSync(path);
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    db.close();
    const s = new SqliteRaftStorage({ path });
    // synchronous is per connection: read it through the storage's own connection.
    const sync = (s as unknown as { db: DatabaseSync }).db.prepare('PRAGMA synchronous').get() as {
      synchronous: number;
    };
    assert.equal(sync.synchronous, 2);
    s.close();
  });

  test('closing and reopening gives back exactly what was persisted, truncation and compaction included', () => {
    const path = dbPath();
    let s = new SqliteRaftStorage({ path, voters: [1, 2, 3] });
    s.save({ entries: ents(1, [1, 1, 1, 1, 1, 1]), hardState: { term: 1, vote: 1, commit: 2 } });
    s.save({ entries: ents(4, [2, 2]), hardState: { term: 2, vote: 3, commit: 4 } }); // truncates 4..6
    s.createSnapshot(3, { voters: [1, 2, 3], learners: [4] }, bytes('state@3'));
    s.compact(2);
    s.setConfState({ voters: [1, 2, 3], learners: [4] });
    const before = {
      first: s.firstIndex(),
      last: s.lastIndex(),
      t2: s.term(2),
      ents: s.entries(3, 6, 1e9),
      init: s.initialState(),
      snap: s.snapshot(),
    };
    s.close();

    s = new SqliteRaftStorage({ path, voters: [9] }); // bootstrap voters are ignored on reopen
    assert.deepEqual(
      {
        first: s.firstIndex(),
        last: s.lastIndex(),
        t2: s.term(2),
        ents: s.entries(3, 6, 1e9),
        init: s.initialState(),
        snap: s.snapshot(),
      },
      before,
    );
    assert.deepEqual(
      before.ents.map((e) => text(e.data)),
      ['t1i3', 't2i4', 't2i5'],
    );
    assert.equal(before.last, 5);
    assert.deepEqual(before.init.hardState, { term: 2, vote: 3, commit: 4 });
    assert.equal(text(before.snap.data), 'state@3');
    s.close();
  });

  test('the snapshot bytes live apart from the hard state, and a database with them inside raft_state is moved on open', () => {
    const path = dbPath();
    let s = new SqliteRaftStorage({ path, voters: [1] });
    s.save({ entries: ents(1, [1, 1, 1]), hardState: { term: 1, vote: 1, commit: 3 } });
    s.createSnapshot(2, { voters: [1], learners: [] }, bytes('state@2'));
    s.close();
    const db = new DatabaseSync(path);
    const layout = () =>
      db
        .prepare('SELECT length(snap_data) AS inRow, (SELECT length(data) FROM raft_snapshot) AS apart FROM raft_state')
        .get();
    assert.deepEqual({ ...layout() }, { inRow: 0, apart: 7 });
    // The layout before raft_snapshot: the bytes in raft_state's row.
    db.exec("UPDATE raft_state SET snap_data = CAST('state@2' AS BLOB); DELETE FROM raft_snapshot");
    s = new SqliteRaftStorage({ path });
    assert.equal(text(s.snapshot().data), 'state@2');
    assert.equal(s.snapshotBytes(), 7);
    s.setHardState({ term: 2, vote: 1, commit: 3 });
    s.close();
    assert.deepEqual({ ...layout() }, { inRow: 0, apart: 7 });
    db.close();
  });

  test('a save that fails midway leaves nothing of it behind (one transaction per Ready)', () => {
    const path = dbPath();
    const s = new SqliteRaftStorage({ path });
    s.save({ entries: ents(1, [1]), hardState: { term: 1, vote: 0, commit: 0 } });
    const snapshot = { metadata: { index: 1, term: 1, confState: { voters: [1], learners: [] } }, data: bytes('') };
    // The snapshot step succeeds, then entries with a gap fail: the whole save rolls back.
    assert.throws(() =>
      s.save({
        entries: ents(7, [2]),
        hardState: { term: 2, vote: 1, commit: 1 },
        snapshot: { ...snapshot, metadata: { ...snapshot.metadata, index: 5 } },
      }),
    );
    s.close();
    const r = new SqliteRaftStorage({ path });
    assert.deepEqual(
      [r.lastIndex(), r.firstIndex(), r.initialState().hardState.term, r.snapshot().metadata.index],
      [1, 1, 1, 0],
    );
    r.close();
  });

  test('a RaftNode restarted over its reopened SQLite storage keeps its term, vote and log, and refuses a second vote', () => {
    const path = dbPath();
    let s = new SqliteRaftStorage({ path, voters: [1, 2, 3] });
    let node = new RaftNode({
      id: 1,
      voters: [1, 2, 3],
      electionTick: 10,
      heartbeatTick: 1,
      storage: s,
      random: seeded(1),
    });
    node.step(
      message('MsgApp', { from: 2, to: 1, term: 3, index: 0, logTerm: 0, commit: 1, entries: ents(1, [3, 3]) }),
    );
    node.step(message('MsgVote', { from: 3, to: 1, term: 4, index: 2, logTerm: 3 }));
    while (node.hasReady()) {
      const rd = node.ready();
      s.save(rd);
      node.advance();
    }
    s.close();
    s = new SqliteRaftStorage({ path });
    node = new RaftNode({
      id: 1,
      voters: [1, 2, 3],
      electionTick: 10,
      heartbeatTick: 1,
      storage: s,
      random: seeded(1),
    });
    assert.deepEqual([node.status().term, node.status().vote, node.status().commit, node.lastIndex()], [4, 3, 1, 2]);
    node.step(message('MsgVote', { from: 2, to: 1, term: 4, index: 9, logTerm: 9 }));
    assert.equal(node.ready().messages[0]!.reject, true);
    s.close();
  });
});

test('a three-node cluster on SQLite storage keeps its log and re-applies it after every node restarts from disk', () => {
  const paths = new Map<number, string>();
  const open = (id: number): SqliteRaftStorage => new SqliteRaftStorage({ path: paths.get(id)!, voters: [1, 2, 3] });
  const net = new RaftNetwork([1, 2, 3], {
    storageFor: (id) => {
      paths.set(id, dbPath());
      return open(id);
    },
  });
  net.campaign(1);
  for (const v of ['a', 'b', 'c']) net.propose(1, v);
  net.tickAll(2);
  const logs = [1, 2, 3].map((id) =>
    net
      .get(id)
      .entries(1, net.get(id).lastIndex() + 1)
      .map((e) => [e.term, text(e.data)]),
  );
  const terms = [1, 2, 3].map((id) => net.get(id).status().term);
  for (const id of [1, 2, 3]) {
    (net.members.get(id)!.storage as SqliteRaftStorage).close();
    net.restart(id, open(id));
  }
  assert.deepEqual(
    [1, 2, 3].map((id) =>
      net
        .get(id)
        .entries(1, net.get(id).lastIndex() + 1)
        .map((e) => [e.term, text(e.data)]),
    ),
    logs,
  );
  assert.deepEqual(
    [1, 2, 3].map((id) => net.get(id).status().term),
    terms,
  );
  for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll();
  net.propose(net.leaders()[0]!, 'd');
  net.tickAll(2);
  for (const id of [1, 2, 3]) assert.deepEqual(net.appliedText(id), ['a', 'b', 'c', 'd']);
  for (const id of [1, 2, 3]) (net.members.get(id)!.storage as SqliteRaftStorage).close();
});

describe('transport and codec', () => {
  test('InMemoryTransport queues per destination in order and drops across a partition', () => {
    const t = new InMemoryTransport();
    t.send(2, message('MsgHeartbeat', { from: 1, to: 2, term: 1 }));
    t.send(2, message('MsgApp', { from: 1, to: 2, term: 1 }));
    t.partition([1], [3]);
    t.send(3, message('MsgApp', { from: 1, to: 3, term: 1 }));
    assert.deepEqual(
      t.take(2).map((m) => m.type),
      ['MsgHeartbeat', 'MsgApp'],
    );
    assert.deepEqual(t.take(3), []);
    assert.deepEqual([t.sent, t.dropped, t.pending()], [3, 1, 0]);
  });

  test('a message survives JSON encoding with its entry and snapshot bytes intact', () => {
    const m = message('MsgSnap', {
      from: 1,
      to: 2,
      term: 3,
      entries: ents(1, [3]),
      snapshot: {
        metadata: { index: 4, term: 3, confState: { voters: [1, 2], learners: [] } },
        data: new Uint8Array([0, 255, 7]),
      },
    });
    const back = decodeMessage(encodeMessage(m));
    assert.deepEqual(back, m);
  });
});
