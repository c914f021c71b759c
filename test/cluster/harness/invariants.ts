/**
 * The safety properties of Raft (paper §5.2–5.4, Figure 3), checked incrementally by the
 * simulation after every step. Each check is cheap: it looks only at what the step changed
 * (entries just persisted, a commit index that just moved, entries just applied, a role that
 * just changed), so millions of steps stay affordable.
 */

/** An entry as the checker sees it: position plus a stable identity of its content. */
export interface SeenEntry {
  index: number;
  term: number;
  /** Type and payload, e.g. `n:p17` or `c:add-learner 4`. */
  key: string;
}

/** What the checker may ask about a node's log. */
export interface LogView {
  /** The entry at `index` in the node's log (in memory, persisted or not); 'compacted' when a snapshot covers it. */
  entryAt(index: number): SeenEntry | 'compacted' | undefined;
}

export class InvariantViolation extends Error {
  readonly invariant: string;
  constructor(invariant: string, detail: string) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
    this.invariant = invariant;
  }
}

interface Committed {
  term: number;
  key: string;
  /** The lowest term a node was in when it learnt the entry was committed (≥ the term it was committed in). */
  learntInTerm: number;
}

export class SafetyChecker {
  /** Invariant checks performed (one per property evaluated on one entry/node). */
  checks = 0;
  /**
   * The Ready-contract checks (applied ≤ persisted commit, committed entries durable on a
   * quorum) catch persistence bugs the moment they happen; switched off, only the paper's
   * end-to-end properties remain (the planted-bug test shows those catch them too).
   */
  readonly contractChecks: boolean;

  constructor(contractChecks = true) {
    this.contractChecks = contractChecks;
  }
  /** Term → the node that was leader in it (Election Safety, §5.2). */
  private readonly leaders = new Map<number, number>();
  /** `index:term` → content and previous term, seen in any persisted log (Log Matching, §5.3). */
  private readonly logged = new Map<string, { key: string; prevTerm: number | undefined }>();
  /** Index → the committed entry (no committed entry is ever lost or changed). */
  readonly committed = new Map<number, Committed>();
  /** Index → the entry some node applied there (State Machine Safety, §5.4.3). */
  private readonly applied = new Map<number, string>();
  /** Highest index known committed. */
  maxCommitted = 0;

  /** A node reports its role; `leader` in `term`. */
  leaderSeen(node: number, term: number, log: LogView): void {
    this.checks++;
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node) {
      throw new InvariantViolation('Election Safety', `nodes ${other} and ${node} were both leader in term ${term}`);
    }
    if (other === undefined) {
      this.leaders.set(term, node);
      // Leader Completeness (§5.4): a new leader holds every entry committed in an earlier term.
      for (const [index, c] of this.committed) {
        if (c.learntInTerm < term) this.expectHolds(node, term, index, c, log);
      }
    }
  }

  /** Entries a node has just made durable, with the term of the entry before the first of them. */
  persisted(node: number, entries: readonly SeenEntry[], prevTerm: number | undefined): void {
    let before = prevTerm;
    for (const e of entries) {
      this.checks++;
      const id = `${e.index}:${e.term}`;
      const seen = this.logged.get(id);
      if (seen === undefined) this.logged.set(id, { key: e.key, prevTerm: before });
      else if (
        seen.key !== e.key ||
        (seen.prevTerm !== undefined && before !== undefined && seen.prevTerm !== before)
      ) {
        throw new InvariantViolation(
          'Log Matching',
          `node ${node} persisted ${e.key} at index ${e.index} term ${e.term} after term ${before}, another log has ${seen.key} there after term ${seen.prevTerm}`,
        );
      }
      before = e.term;
    }
  }

  /**
   * A node made commit index `commit` visible (persisted in its hard state) while in `term`;
   * `from` is the previous visible commit. Returns the indexes newly known committed.
   */
  commitSeen(
    node: number,
    term: number,
    from: number,
    commit: number,
    log: LogView,
    leaders: Iterable<{ id: number; term: number; log: LogView }>,
  ): number[] {
    const fresh: number[] = [];
    for (let i = from + 1; i <= commit; i++) {
      this.checks++;
      const e = log.entryAt(i);
      const c = this.committed.get(i);
      if (e === 'compacted') continue;
      if (e === undefined)
        throw new InvariantViolation(
          'Commit within the log',
          `node ${node} claims commit ${commit} but has no entry at ${i}`,
        );
      if (c === undefined) {
        const entry = { term: e.term, key: e.key, learntInTerm: term };
        this.committed.set(i, entry);
        fresh.push(i);
        if (i > this.maxCommitted) this.maxCommitted = i;
        // Leader Completeness for leaders elected before this commit became known.
        for (const l of leaders) if (l.term > term) this.expectHolds(l.id, l.term, i, entry, l.log);
      } else {
        if (c.term !== e.term || c.key !== e.key) {
          throw new InvariantViolation(
            'Committed entries never change',
            `node ${node} committed ${e.key} (term ${e.term}) at index ${i}, but ${c.key} (term ${c.term}) was committed there`,
          );
        }
        if (term < c.learntInTerm) c.learntInTerm = term;
      }
    }
    return fresh;
  }

  /** A node applied `entries` to its state machine (in order). */
  appliedEntries(node: number, entries: readonly SeenEntry[]): void {
    for (const e of entries) {
      this.checks++;
      const prior = this.applied.get(e.index);
      if (prior === undefined) this.applied.set(e.index, e.key);
      else if (prior !== e.key) {
        throw new InvariantViolation(
          'State Machine Safety',
          `node ${node} applied ${e.key} at index ${e.index}, another node applied ${prior} there`,
        );
      }
      const c = this.committed.get(e.index);
      if (c !== undefined && c.key !== e.key) {
        throw new InvariantViolation(
          'State Machine Safety',
          `node ${node} applied ${e.key} at index ${e.index}, but ${c.key} is committed there`,
        );
      }
    }
  }

  /**
   * A node is about to replace its persisted entry (index, term) (conflict truncation or a
   * snapshot install). A node never drops an entry it knows is committed (index ≤ its own
   * commit). It may drop a committed entry it does not know about: a stale leader can
   * overwrite a lagging follower (paper §5.3); the quorum that acknowledged the entry is in a
   * newer term and rejects that leader. Returns true for such an entry, so the caller re-checks
   * that the entry is still durable on a quorum and cannot be outvoted.
   */
  discarding(node: number, index: number, term: number, knownCommit: number, by: string): boolean {
    this.checks++;
    const c = this.committed.get(index);
    if (c === undefined || c.term !== term) return false;
    if (index <= knownCommit) {
      throw new InvariantViolation(
        'Committed entries never change',
        `node ${node} discarded committed entry ${index} (${c.key}, term ${term}), within its own commit index ${knownCommit}, by ${by}`,
      );
    }
    return true;
  }

  /** A snapshot installed or sent covers only committed entries, with their terms. */
  snapshotSeen(node: number, index: number, term: number): void {
    this.checks++;
    const c = this.committed.get(index);
    if (c !== undefined && c.term !== term) {
      throw new InvariantViolation(
        'Committed entries never change',
        `node ${node} installed a snapshot at index ${index} term ${term}, but term ${c.term} is committed there`,
      );
    }
  }

  /**
   * ReadIndex (thesis §6.4) is linearizable: the index a read is served at covers every write
   * acknowledged before the read began.
   */
  readIndexSafe(node: number, ctx: string, index: number, ackedBefore: number): void {
    this.checks++;
    if (index < ackedBefore) {
      throw new InvariantViolation(
        'Linearizable reads',
        `node ${node} answered read ${ctx} at index ${index}, but index ${ackedBefore} was acknowledged before the read began`,
      );
    }
  }

  /** Applied ≤ committed on a node. */
  appliedWithinCommit(node: number, applied: number, commit: number): void {
    if (!this.contractChecks) return;
    this.checks++;
    if (applied > commit)
      throw new InvariantViolation(
        'Applied within commit',
        `node ${node} applied through ${applied} but its commit index is ${commit}`,
      );
  }

  /**
   * Every committed entry must be durable on enough voters that every quorum of the current
   * configuration intersects them (else a crash of the rest could elect a leader without it).
   */
  durableOnQuorum(index: number, voters: readonly number[], holds: (node: number) => boolean, context = ''): void {
    if (!this.contractChecks) return;
    this.checks++;
    const without = voters.filter((v) => !holds(v));
    if (without.length >= Math.floor(voters.length / 2) + 1) {
      throw new InvariantViolation(
        'Committed entries are durable on a quorum',
        `index ${index} is committed but not persisted on voters ${without.join(',')} of ${voters.join(',')}${context}`,
      );
    }
  }

  /**
   * A committed entry can never be outvoted (the §5.4.3 argument, checked ahead of time):
   * no voter lacking it may have a log at least as up-to-date (§5.4.1) as a quorum of voters,
   * or it could be elected and overwrite the entry. Votes already cast are ignored, which
   * only makes the check stricter than any real election.
   */
  notOutvotable(
    index: number,
    voters: readonly number[],
    holds: (node: number) => boolean,
    last: (node: number) => { term: number; index: number },
  ): void {
    if (!this.contractChecks) return;
    const quorum = Math.floor(voters.length / 2) + 1;
    for (const c of voters) {
      if (holds(c)) continue;
      this.checks++;
      const lc = last(c);
      const grant = voters.filter((v) => {
        const lv = last(v);
        return v === c || lc.term > lv.term || (lc.term === lv.term && lc.index >= lv.index);
      });
      if (grant.length >= quorum) {
        throw new InvariantViolation(
          'Committed entries cannot be outvoted',
          `index ${index} is committed, but node ${c} lacks it and its log (last ${lc.index}/t${lc.term}) is as up-to-date as those of voters ${grant.join(',')}, a quorum of ${voters.join(',')}`,
        );
      }
    }
  }

  private expectHolds(node: number, term: number, index: number, c: Committed, log: LogView): void {
    this.checks++;
    const e = log.entryAt(index);
    if (e === 'compacted') return;
    if (e === undefined || e.term !== c.term || e.key !== c.key) {
      const has = e === undefined ? 'nothing' : `${e.key} (term ${e.term})`;
      throw new InvariantViolation(
        'Leader Completeness',
        `node ${node} is leader of term ${term} but has ${has} at index ${index}, where ${c.key} (term ${c.term}) was committed by term ${c.learntInTerm}`,
      );
    }
  }
}
