// A linearizability check for registers written by one sequential writer each (Herlihy & Wing,
// "Linearizability", 1990). Every key's writes carry increasing values and only its last
// write may have an unknown outcome (the writer moves to a new key after a failure), so in any
// linearization the key's value never decreases. For such a register a history is
// linearizable when each successful read of value v satisfies:
//   fresh      v ≥ the newest write acknowledged before the read was sent;
//   not early  v ≤ the newest write sent before the read was answered (and v was written);
//   monotonic  v ≥ the value of every read of the key answered before this one was sent.
// Times are one clock (the test process's) at send and at answer, which only widens each
// operation's interval, so a reported violation is real.

export interface RegisterWrite {
  key: string;
  value: number;
  start: number;
  end: number;
  /** false: failed or timed out, so it may or may not have taken effect. */
  acked: boolean;
}

export interface RegisterRead {
  key: string;
  /** 0 when the key did not exist. */
  value: number;
  start: number;
  end: number;
  node: string;
}

export interface Violation {
  kind: 'stale' | 'early' | 'unwritten' | 'non-monotonic';
  read: RegisterRead;
  /** The bound the read broke. */
  bound: number;
}

export function checkRegisters(writes: readonly RegisterWrite[], reads: readonly RegisterRead[]): Violation[] {
  const byKey = new Map<string, RegisterWrite[]>();
  for (const w of writes) {
    let l = byKey.get(w.key);
    if (!l) byKey.set(w.key, (l = []));
    l.push(w);
  }
  const readsByKey = new Map<string, RegisterRead[]>();
  for (const r of reads) {
    let l = readsByKey.get(r.key);
    if (!l) readsByKey.set(r.key, (l = []));
    l.push(r);
  }
  const out: Violation[] = [];
  for (const [key, rs] of readsByKey) {
    const ws = byKey.get(key) ?? [];
    const written = new Set(ws.map((w) => w.value));
    for (const r of rs) {
      let fresh = 0;
      let early = 0;
      for (const w of ws) {
        if (w.acked && w.end < r.start) fresh = Math.max(fresh, w.value);
        if (w.start < r.end) early = Math.max(early, w.value);
      }
      if (r.value !== 0 && !written.has(r.value)) out.push({ kind: 'unwritten', read: r, bound: early });
      else if (r.value < fresh) out.push({ kind: 'stale', read: r, bound: fresh });
      else if (r.value > early) out.push({ kind: 'early', read: r, bound: early });
    }
    // Monotonic: sweep the reads by start, admitting those answered before it.
    const byEnd = [...rs].sort((a, b) => a.end - b.end);
    const byStart = [...rs].sort((a, b) => a.start - b.start);
    let i = 0;
    let seen = 0;
    for (const r of byStart) {
      while (i < byEnd.length && byEnd[i]!.end < r.start) seen = Math.max(seen, byEnd[i++]!.value);
      if (r.value < seen) out.push({ kind: 'non-monotonic', read: r, bound: seen });
    }
  }
  return out;
}
