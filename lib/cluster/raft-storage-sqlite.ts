// Durable Raft state in SQLite (WAL, synchronous=FULL): log entries, the hard state (term,
// vote, commit), the latest snapshot (metadata and bytes) and the applied membership. One
// Ready is saved in one transaction, so after a crash the database holds all of a Ready's
// state or none of it, and COMMIT returns only once the WAL is fsynced: the Ready's messages
// may then be sent (lib/cluster/raft/API.md, "Persistence order").
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  RaftStorageError,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Ready,
  type Snapshot,
  type WritableRaftStorage,
} from './raft/types.ts';
import { LogCache } from './log-cache.ts';

/** Newest log entries kept in memory for the core's reads (see log-cache.ts): about the
 *  batches in flight and just committed; older ones are read from SQLite. With 8 MiB every
 *  node spent more CPU per 1 KiB PUT (the leader 3–21%, followers 10–25%, in 13 alternating
 *  pairs; its GC time was the same: STATUS "Session 16"). */
const CACHED_ENTRY_BYTES = 256 << 10;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS raft_entries (
  idx  INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS raft_state (
  k INTEGER PRIMARY KEY CHECK (k = 1),
  term INTEGER NOT NULL, vote INTEGER NOT NULL, commit_index INTEGER NOT NULL,
  -- the entry just before the first stored one (snapshot index or compaction point)
  log_offset INTEGER NOT NULL, log_offset_term INTEGER NOT NULL,
  snap_index INTEGER NOT NULL, snap_term INTEGER NOT NULL, snap_conf TEXT NOT NULL,
  snap_data BLOB NOT NULL, -- empty: the snapshot's data lives in raft_snapshot (see below)
  conf TEXT NOT NULL
) STRICT;
-- The snapshot's bytes in a row of their own: an UPDATE rewrites the whole row, overflow
-- pages included, so with the bytes beside the hard state every term/vote/commit write
-- rewrote the whole snapshot (3.6 s of an 8 s cluster PUT profile).
CREATE TABLE IF NOT EXISTS raft_snapshot (
  k INTEGER PRIMARY KEY CHECK (k = 1),
  data BLOB NOT NULL
) STRICT;
`;

const TYPE_CODE: Record<EntryType, number> = { normal: 0, confChange: 1 };
const CODE_TYPE: EntryType[] = ['normal', 'confChange'];

type Row = Record<string, unknown>;

function conf(json: string): ConfState {
  const c = JSON.parse(json) as ConfState;
  return { voters: c.voters, learners: c.learners };
}

function rowEntry(r: Row): Entry {
  const data = r.data as Uint8Array;
  return { index: Number(r.idx), term: Number(r.term), type: CODE_TYPE[Number(r.type)]!, data: new Uint8Array(data) };
}

export interface SqliteRaftStorageOptions {
  path: string;
  /** Membership of a brand-new cluster, stored on first open only. */
  voters?: number[];
  learners?: number[];
  /** Bytes of the newest entries kept in memory (default 8 MiB). */
  cachedEntryBytes?: number;
}

export class SqliteRaftStorage implements WritableRaftStorage {
  private readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  // Cached copy of raft_state and the last index, so reads on the hot path avoid SQL.
  private hs: HardState;
  private offset: number;
  private offsetTerm: number;
  private snapMeta: Snapshot['metadata'];
  private confState: ConfState;
  private last: number;
  /** The cached commit index is ahead of the stored one (a commit-only Ready, not written). */
  private commitUnsaved = false;
  private readonly cache: LogCache;

  constructor(opts: SqliteRaftStorageOptions) {
    this.cache = new LogCache(opts.cachedEntryBytes ?? CACHED_ENTRY_BYTES);
    this.db = new DatabaseSync(opts.path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec(SCHEMA);
    const initial: ConfState = { voters: opts.voters ?? [], learners: opts.learners ?? [] };
    const empty = JSON.stringify({ voters: [], learners: [] });
    this.q(`INSERT OR IGNORE INTO raft_state VALUES (1, 0, 0, 0, 0, 0, 0, 0, ?, X'', ?)`).run(
      empty,
      JSON.stringify(initial),
    );
    // A database written before raft_snapshot existed: move the bytes out of raft_state once.
    this.tx(() => {
      this.q('INSERT OR IGNORE INTO raft_snapshot (k, data) SELECT 1, snap_data FROM raft_state WHERE k = 1').run();
      this.q("UPDATE raft_state SET snap_data = X'' WHERE k = 1 AND length(snap_data) > 0").run();
    });
    const s = this.q('SELECT * FROM raft_state WHERE k = 1').get() as Row;
    this.hs = { term: Number(s.term), vote: Number(s.vote), commit: Number(s.commit_index) };
    this.offset = Number(s.log_offset);
    this.offsetTerm = Number(s.log_offset_term);
    this.snapMeta = { index: Number(s.snap_index), term: Number(s.snap_term), confState: conf(s.snap_conf as string) };
    this.confState = conf(s.conf as string);
    const l = this.q('SELECT MAX(idx) AS m FROM raft_entries').get() as Row;
    this.last = l.m === null ? this.offset : Number(l.m);
    this.reloadCache();
  }

  private reloadCache(): void {
    const runs = this.q('SELECT MIN(idx) AS start, term FROM raft_entries GROUP BY term ORDER BY start').all() as Row[];
    this.cache.reset(runs.map((r) => ({ start: Number(r.start), term: Number(r.term) })));
  }

  private q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private tx<T>(fn: () => T): T {
    if (this.db.isTransaction) return fn();
    const saved = {
      hs: this.hs,
      offset: this.offset,
      offsetTerm: this.offsetTerm,
      snapMeta: this.snapMeta,
      confState: this.confState,
      last: this.last,
      commitUnsaved: this.commitUnsaved,
    };
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      Object.assign(this, saved);
      this.reloadCache();
      throw err;
    }
  }

  close(): void {
    if (this.commitUnsaved && this.db.isOpen) this.setHardState(this.hs);
    this.db.close();
  }

  // ---- RaftStorage ------------------------------------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return {
      hardState: { ...this.hs },
      confState: { voters: [...this.confState.voters], learners: [...this.confState.learners] },
    };
  }

  /** Term and vote as stored (the commit index may be ahead of the stored one). */
  hardState(): HardState {
    return { ...this.hs };
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(i: number): number {
    if (i < this.offset) throw new RaftStorageError('compacted');
    if (i > this.last) throw new RaftStorageError('unavailable');
    if (i === this.offset) return this.offsetTerm;
    const cached = this.cache.term(i);
    if (cached !== undefined) return cached;
    return Number((this.q('SELECT term FROM raft_entries WHERE idx = ?').get(i) as Row).term);
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo <= this.offset) throw new RaftStorageError('compacted');
    if (hi > this.last + 1) throw new RaftStorageError('unavailable');
    if (lo >= hi) return [];
    const cached = this.cache.entries(lo, hi, maxSize);
    if (cached) return cached;
    const out: Entry[] = [];
    let size = 0;
    for (const r of this.q(
      'SELECT idx, term, type, data FROM raft_entries WHERE idx >= ? AND idx < ? ORDER BY idx',
    ).iterate(lo, hi)) {
      const e = rowEntry(r as Row);
      size += e.data.byteLength + 16;
      if (out.length > 0 && size > maxSize) break;
      out.push(e);
    }
    return out;
  }

  /** The latest snapshot's index, term and configuration, without copying its data. */
  snapshotMetadata(): Snapshot['metadata'] {
    return this.snapMeta;
  }

  /** The latest snapshot's data size in bytes. */
  snapshotBytes(): number {
    return Number((this.q('SELECT length(data) AS n FROM raft_snapshot WHERE k = 1').get() as Row | undefined)?.n ?? 0);
  }

  snapshot(): Snapshot {
    const r = this.q('SELECT data FROM raft_snapshot WHERE k = 1').get() as Row | undefined;
    return { metadata: this.snapMeta, data: new Uint8Array((r?.data as Uint8Array | undefined) ?? new Uint8Array()) };
  }

  // ---- writes -------------------------------------------------------------------------

  save(rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): void {
    if (!rd.snapshot && rd.entries.length === 0 && !rd.hardState) return;
    // The commit index is volatile state (paper Figure 2): a Ready that only moves it is not
    // written at all (API.md: "a commit-index-only change may be written lazily"); the next
    // write that is synced anyway carries it. Term, vote and entries are always synced. A
    // restart may find it lower; see raiseCommit.
    if (
      !rd.snapshot &&
      rd.entries.length === 0 &&
      rd.hardState!.term === this.hs.term &&
      rd.hardState!.vote === this.hs.vote
    ) {
      this.hs = { ...rd.hardState! };
      this.commitUnsaved = true;
      return;
    }
    this.tx(() => {
      if (rd.snapshot) this.applySnapshot(rd.snapshot);
      this.append(rd.entries);
      if (rd.hardState || this.commitUnsaved) this.setHardState(rd.hardState ?? this.hs);
    });
  }

  /** After a power loss the state machine may have applied past the commit index saved here
   *  (which is written without fsync): what it applied was committed, so raise it. */
  raiseCommit(applied: number): void {
    if (applied > this.hs.commit && applied <= this.last) this.setHardState({ ...this.hs, commit: applied });
  }

  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.offset + 1;
    if (entries[0]!.index + entries.length - 1 < first) return;
    if (entries[0]!.index < first) entries = entries.slice(first - entries[0]!.index);
    const start = entries[0]!.index;
    if (start > this.last + 1) throw new RaftStorageError('unavailable', `missing log entry before ${start}`);
    this.tx(() => {
      // A suffix the leader overwrote goes first (paper §5.3).
      if (start <= this.last) this.q('DELETE FROM raft_entries WHERE idx >= ?').run(start);
      const ins = this.q('INSERT INTO raft_entries (idx, term, type, data) VALUES (?, ?, ?, ?)');
      for (const e of entries) ins.run(e.index, e.term, TYPE_CODE[e.type], e.data);
      this.last = entries[entries.length - 1]!.index;
      this.cache.append(entries);
    });
  }

  setHardState(hs: HardState): void {
    this.tx(() => {
      this.q('UPDATE raft_state SET term = ?, vote = ?, commit_index = ? WHERE k = 1').run(hs.term, hs.vote, hs.commit);
      this.hs = { ...hs };
      this.commitUnsaved = false;
    });
  }

  /** Remembers the membership the application applied, for a restart (initialState). */
  setConfState(cs: ConfState): void {
    this.tx(() => {
      this.q('UPDATE raft_state SET conf = ? WHERE k = 1').run(JSON.stringify(cs));
      this.confState = { voters: [...cs.voters], learners: [...cs.learners] };
    });
  }

  applySnapshot(snap: Snapshot): void {
    const m = snap.metadata;
    if (m.index <= this.snapMeta.index) throw new RaftStorageError('snapshotOutOfDate');
    this.tx(() => {
      this.q('DELETE FROM raft_entries').run();
      this.q(`UPDATE raft_state SET log_offset = ?, log_offset_term = ?, snap_index = ?, snap_term = ?, snap_conf = ?,
        conf = ? WHERE k = 1`).run(
        m.index,
        m.term,
        m.index,
        m.term,
        JSON.stringify(m.confState),
        JSON.stringify(m.confState),
      );
      this.q('INSERT OR REPLACE INTO raft_snapshot (k, data) VALUES (1, ?)').run(snap.data);
      this.offset = m.index;
      this.offsetTerm = m.term;
      this.last = m.index;
      this.snapMeta = {
        index: m.index,
        term: m.term,
        confState: { voters: [...m.confState.voters], learners: [...m.confState.learners] },
      };
      this.confState = this.snapMeta.confState;
      this.cache.reset([]);
    });
  }

  /** Replaces the whole Raft state (log, snapshot, hard state) with `snap` and `hs` in one
   *  transaction: the start of a promoted single-node store (lib/cluster/promote.ts). */
  bootstrap(snap: Snapshot, hs: HardState): void {
    this.tx(() => {
      this.snapMeta = { index: 0, term: 0, confState: { voters: [], learners: [] } };
      this.applySnapshot(snap);
      this.setHardState(hs);
    });
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snapMeta.index) throw new RaftStorageError('snapshotOutOfDate');
    if (index > this.last) throw new RaftStorageError('unavailable', `snapshot index ${index} > last ${this.last}`);
    const term = this.term(index);
    const cs = { voters: [...confState.voters], learners: [...confState.learners] };
    this.tx(() => {
      this.q('UPDATE raft_state SET snap_index = ?, snap_term = ?, snap_conf = ? WHERE k = 1').run(
        index,
        term,
        JSON.stringify(cs),
      );
      this.q('INSERT OR REPLACE INTO raft_snapshot (k, data) VALUES (1, ?)').run(data);
      this.snapMeta = { index, term, confState: cs };
    });
    return { metadata: this.snapMeta, data };
  }

  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.last) throw new RaftStorageError('unavailable', `compact ${index} > last ${this.last}`);
    const term = this.term(index);
    this.tx(() => {
      this.q('DELETE FROM raft_entries WHERE idx <= ?').run(index);
      this.q('UPDATE raft_state SET log_offset = ?, log_offset_term = ? WHERE k = 1').run(index, term);
      this.offset = index;
      this.offsetTerm = term;
      this.cache.compact(index);
    });
  }
}
