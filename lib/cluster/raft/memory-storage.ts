// In-memory RaftStorage, for tests and the simulation (etcd's MemoryStorage). ents[0] is a
// dummy entry standing for the snapshot's (index, term), so term() answers for it.
import {
  RaftStorageError,
  type ConfState,
  type Entry,
  type HardState,
  type Ready,
  type Snapshot,
  type WritableRaftStorage,
} from './types.ts';
import { limitSize } from './util.ts';

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
}

export class MemoryStorage implements WritableRaftStorage {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snap: Snapshot = emptySnapshot();
  // ents[i] has index snap.metadata.index + i; ents[0] is the dummy.
  ents: Entry[] = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];
  /** Membership as of the last conf state set (the application updates it on apply). */
  confState: ConfState = { voters: [], learners: [] };

  constructor(init?: { voters?: number[]; learners?: number[] }) {
    if (init) this.confState = { voters: [...(init.voters ?? [])], learners: [...(init.learners ?? [])] };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.confState };
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(i: number): number {
    const off = this.offset();
    if (i < off) throw new RaftStorageError('compacted');
    if (i - off >= this.ents.length) throw new RaftStorageError('unavailable');
    return this.ents[i - off]!.term;
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const off = this.offset();
    if (lo <= off) throw new RaftStorageError('compacted');
    if (hi > this.lastIndex() + 1) throw new RaftStorageError('unavailable');
    return limitSize(this.ents.slice(lo - off, hi - off), maxSize);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Remembers the membership the application applied, for a restart (initialState). */
  setConfState(cs: ConfState): void {
    this.confState = { voters: [...cs.voters], learners: [...cs.learners] };
  }

  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) throw new RaftStorageError('snapshotOutOfDate');
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 'normal', data: new Uint8Array(0) }];
    this.confState = snap.metadata.confState;
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new RaftStorageError('snapshotOutOfDate');
    if (index > this.lastIndex())
      throw new RaftStorageError('unavailable', `snapshot index ${index} > last ${this.lastIndex()}`);
    const term = this.term(index);
    this.snap = {
      metadata: { index, term, confState: { voters: [...confState.voters], learners: [...confState.learners] } },
      data,
    };
    return this.snap;
  }

  compact(index: number): void {
    const off = this.offset();
    if (index <= off) return;
    if (index > this.lastIndex())
      throw new RaftStorageError('unavailable', `compact ${index} > last ${this.lastIndex()}`);
    const i = index - off;
    const head = this.ents[i]!;
    this.ents = [
      { term: head.term, index: head.index, type: 'normal', data: new Uint8Array(0) },
      ...this.ents.slice(i + 1),
    ];
  }

  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    // Skip entries already covered by the snapshot.
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const off = entries[0]!.index - this.offset();
    if (off > this.ents.length)
      throw new RaftStorageError('unavailable', `missing log entry before ${entries[0]!.index}`);
    // Truncate a conflicting (or merely overlapping) suffix, then append (paper §5.3).
    this.ents.length = off;
    for (const e of entries) this.ents.push(e);
  }

  save(rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): void {
    if (rd.snapshot) this.applySnapshot(rd.snapshot);
    this.append(rd.entries);
    if (rd.hardState) this.setHardState(rd.hardState);
  }
}
