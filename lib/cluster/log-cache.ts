// What the Raft core reads back from the durable log on every Ready (the term of an index
// for the log-matching check, the entries just committed, the entries a follower lacks),
// kept in memory so the hot path runs no SQL. etcd keeps the whole log since the last
// snapshot in a MemoryStorage beside its WAL; here the terms are kept as runs (a term covers
// a contiguous range of indexes, paper §5.3), which costs a few bytes per leader change, and
// the entries only for the newest `maxBytes` (inline objects make entries up to 64 KiB).
import type { Entry } from './raft/types.ts';

interface Run {
  start: number;
  term: number;
}

export class LogCache {
  private runs: Run[] = [];
  private tail: Entry[] = [];
  private head = 0; // tail[head] is the oldest cached entry
  private bytes = 0;

  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Starts over from the stored log's term runs (their first index and term, ascending). */
  reset(runs: Run[]): void {
    this.runs = runs.map((r) => ({ ...r }));
    this.tail = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** The term of `i`, for an index in the stored log (the caller checks the bounds). */
  term(i: number): number | undefined {
    let lo = 0;
    let hi = this.runs.length - 1;
    if (hi < 0 || i < this.runs[0]!.start) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.runs[mid]!.start <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.runs[lo]!.term;
  }

  /** Entries [lo, hi) up to `maxSize` bytes (at least one), or undefined if lo is older than
   *  what is cached. */
  entries(lo: number, hi: number, maxSize: number): Entry[] | undefined {
    const first = this.firstCached();
    if (first === undefined || lo < first) return undefined;
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.tail[this.head + i - first];
      if (!e) return undefined;
      size += e.data.byteLength + 16;
      if (out.length > 0 && size > maxSize) break;
      out.push(e);
    }
    return out;
  }

  /** Entries appended at the end of the log, after dropping any suffix from their first index
   *  (the caller's log holds exactly the indexes before it). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.truncateFrom(entries[0]!.index);
    for (const e of entries) {
      const last = this.runs[this.runs.length - 1];
      if (!last || last.term !== e.term) this.runs.push({ start: e.index, term: e.term });
      this.tail.push(e);
      this.bytes += e.data.byteLength + 16;
    }
    while (this.bytes > this.maxBytes && this.tail.length - this.head > 1) {
      this.bytes -= this.tail[this.head]!.data.byteLength + 16;
      this.tail[this.head++] = undefined as unknown as Entry;
    }
    if (this.head > 1024 && this.head * 2 > this.tail.length) this.rebase();
  }

  /** Forgets indexes up to and including `index` (compaction). */
  compact(index: number): void {
    let k = 0;
    while (k + 1 < this.runs.length && this.runs[k + 1]!.start <= index + 1) k++;
    this.runs = this.runs.slice(k);
    const r = this.runs[0];
    if (r && r.start <= index) r.start = index + 1;
    const first = this.firstCached();
    if (first === undefined) return;
    for (let i = first; i <= index && this.head < this.tail.length; i++) {
      this.bytes -= this.tail[this.head]!.data.byteLength + 16;
      this.tail[this.head++] = undefined as unknown as Entry;
    }
    this.rebase();
  }

  private truncateFrom(index: number): void {
    while (this.runs.length && this.runs[this.runs.length - 1]!.start >= index) this.runs.pop();
    const first = this.firstCached();
    if (first === undefined) return;
    if (index <= first) {
      this.tail = [];
      this.head = 0;
      this.bytes = 0;
      return;
    }
    const keep = this.head + (index - first);
    for (let j = keep; j < this.tail.length; j++) this.bytes -= this.tail[j]!.data.byteLength + 16;
    this.tail.length = Math.min(this.tail.length, keep);
  }

  private firstCached(): number | undefined {
    const e = this.tail[this.head];
    return e ? e.index : undefined;
  }

  private rebase(): void {
    this.tail = this.tail.slice(this.head);
    this.head = 0;
  }
}
