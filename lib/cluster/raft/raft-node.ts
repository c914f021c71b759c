// RaftNode: the application-facing wrapper around the state machine (etcd's RawNode). It
// turns method calls into messages and batches the state machine's output into Readys; see
// API.md for the loop and the persistence order.
import { encodeConfChange } from './codec.ts';
import { Raft, message } from './raft.ts';
import {
  NONE,
  type BasicStatus,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProgressStatus,
  type RaftConfig,
  type RaftNodeApi,
  type Ready,
  type SoftState,
  type Status,
} from './types.ts';

/** Types only the core itself may create; step() drops them from the network. */
const LOCAL: ReadonlySet<string> = new Set(['MsgHup', 'MsgBeat', 'MsgUnreachable', 'MsgSnapStatus', 'MsgCheckQuorum']);
const FORWARDED: ReadonlySet<string> = new Set(['MsgProp', 'MsgReadIndex', 'MsgTransferLeader']);
const RESPONSES: ReadonlySet<string> = new Set(['MsgAppResp', 'MsgVoteResp', 'MsgPreVoteResp', 'MsgHeartbeatResp']);

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** What the last Ready handed out, so advance() acknowledges exactly that. */
interface Handed {
  lastEntry?: { index: number; term: number };
  snapshotIndex?: number;
  hardState?: HardState;
  lastCommitted?: Entry[];
}

export class RaftNode implements RaftNodeApi {
  readonly raft: Raft;
  private readonly maxCommittedSize: number;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private handed: Handed | undefined;
  /** testBugs.sendBeforePersist: persistence withheld until the next input. */
  private withheld = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.maxCommittedSize = config.maxCommittedSizePerReady ?? this.raft.maxMsgSize * 64;
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  tick(): void {
    this.withheld = false;
    this.raft.tick();
  }

  /** See Raft.holdVotes: a node restarted without its durable state grants no vote for a while. */
  holdVotes(ticks: number): void {
    this.raft.holdVotes(ticks);
  }

  campaign(): void {
    this.withheld = false;
    this.raft.step(message('MsgHup', { from: this.raft.id }));
  }

  step(msg: Message): void {
    this.withheld = false;
    if (LOCAL.has(msg.type)) return;
    // Only forwarded requests travel without a term; anything else would skip the term rules.
    if (msg.term === 0 && !FORWARDED.has(msg.type)) return;
    // A response from a node not in the configuration (say, just removed) is ignored.
    if (RESPONSES.has(msg.type) && !this.raft.prs.has(msg.from) && this.raft.role === 'leader') return;
    this.raft.step(msg);
  }

  propose(data: Uint8Array): boolean {
    return this.proposeEntry({ term: 0, index: 0, type: 'normal', data });
  }

  /** Proposes several normal entries as one MsgProp (leader only): they are appended together
   *  and replicated in one MsgApp per follower, acknowledged and committed once. */
  proposeMany(data: Uint8Array[]): boolean {
    const r = this.raft;
    if (r.role !== 'leader' || data.length === 0) return false;
    this.withheld = false;
    const before = r.log.lastIndex();
    r.step(
      message('MsgProp', {
        from: r.id,
        entries: data.map((d) => ({ term: 0, index: 0, type: 'normal' as const, data: d })),
      }),
    );
    return r.log.lastIndex() === before + data.length;
  }

  proposeConfChange(cc: ConfChange): boolean {
    return this.proposeEntry({ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) });
  }

  private proposeEntry(e: Entry): boolean {
    this.withheld = false;
    const r = this.raft;
    if (r.role === 'leader') {
      const before = r.log.lastIndex();
      r.step(message('MsgProp', { from: r.id, entries: [e] }));
      return r.log.lastIndex() > before;
    }
    if (r.role !== 'follower' || r.lead === NONE) return false;
    r.step(message('MsgProp', { from: r.id, entries: [e] }));
    return true;
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  transferLeader(transferee: NodeId): void {
    this.withheld = false;
    this.raft.step(message('MsgTransferLeader', { from: transferee }));
  }

  readIndex(ctx: string): void {
    this.withheld = false;
    this.raft.step(message('MsgReadIndex', { from: NONE, context: ctx }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(message('MsgUnreachable', { from: id }));
  }

  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.step(message('MsgSnapStatus', { from: id, reject: status === 'failure' }));
  }

  private persistable(): boolean {
    return !(this.withheld && this.raft.bugs.sendBeforePersist);
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = this.prevSoft;
    if (soft.lead !== r.lead || soft.role !== r.role) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (!this.persistable()) return false;
    if (r.log.hasNextCommittedEnts()) return true;
    if (r.log.unstable.entries.length > 0 || r.log.unstable.snapshot) return true;
    return !sameHardState(this.prevHard, r.hardState());
  }

  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      readStates: r.readStates,
      entries: [],
      committedEntries: [],
      messages: r.msgs,
      mustSync: false,
    };
    r.msgs = [];
    r.readStates = [];
    const handed: Handed = {};
    const soft = this.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) {
      rd.softState = soft;
      this.prevSoft = soft;
    }
    // testBugs.sendBeforePersist: hand out the messages now, the state they promise (and
    // anything to apply) only with a later Ready.
    const withhold = r.bugs.sendBeforePersist === true && rd.messages.length > 0;
    if (!withhold) rd.committedEntries = r.log.nextCommittedEnts(this.maxCommittedSize);
    if (rd.committedEntries.length > 0) {
      r.log.applying = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      handed.lastCommitted = rd.committedEntries;
    }
    if (!withhold && this.persistable()) {
      const hs = r.hardState();
      if (!sameHardState(hs, this.prevHard)) {
        rd.hardState = hs;
        handed.hardState = hs;
        rd.mustSync = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote;
      }
      const ents = r.log.unstable.entries;
      if (ents.length > 0) {
        rd.entries = ents.slice(); // the unstable array grows in place; hand out a copy
        const last = ents[ents.length - 1]!;
        handed.lastEntry = { index: last.index, term: last.term };
        rd.mustSync = true;
      }
      const snap = r.log.unstable.snapshot;
      if (snap) {
        rd.snapshot = snap;
        handed.snapshotIndex = snap.metadata.index;
        rd.mustSync = true;
      }
    }
    if (withhold) this.withheld = true;
    this.handed = handed;
    return rd;
  }

  advance(): void {
    const h = this.handed;
    if (!h) return;
    this.handed = undefined;
    const log = this.raft.log;
    if (h.hardState) this.prevHard = h.hardState;
    if (h.snapshotIndex !== undefined) {
      log.unstable.stableSnapTo(h.snapshotIndex);
      log.appliedTo(h.snapshotIndex);
    }
    if (h.lastEntry) log.unstable.stableTo(h.lastEntry.index, h.lastEntry.term);
    if (h.lastCommitted) {
      log.appliedTo(h.lastCommitted[h.lastCommitted.length - 1]!.index);
      this.raft.reduceUncommittedSize(h.lastCommitted);
    }
  }

  basicStatus(): BasicStatus {
    const r = this.raft;
    return { role: r.role, term: r.term, lead: r.lead };
  }

  status(): Status {
    const r = this.raft;
    const s: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lead: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
    };
    if (r.role === 'leader') {
      const progress: Record<number, ProgressStatus> = {};
      for (const [id, pr] of r.prs) progress[id] = pr.status();
      s.progress = progress;
    }
    return s;
  }

  firstIndex(): number {
    return this.raft.log.firstIndex();
  }

  lastIndex(): number {
    return this.raft.log.lastIndex();
  }

  termAt(i: number): number | undefined {
    return this.raft.log.term(i);
  }

  entries(lo: number, hi: number): Entry[] {
    return this.raft.log.slice(lo, hi, Number.MAX_SAFE_INTEGER);
  }
}
