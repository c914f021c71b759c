// The Raft state machine (etcd's raft.go): roles, terms, elections, replication, commitment,
// snapshots, membership, leadership transfer and ReadIndex. Inputs arrive as messages through
// step(); outputs accumulate in `msgs` and `readStates` for the Ready (raft-node.ts).
import { applyToConfState, refuseConfChange } from './confchange.ts';
import { decodeConfChange, encodeConfChange } from './codec.ts';
import { RaftLog } from './log.ts';
import { Progress } from './progress.ts';
import { committedIndex, voteResult } from './quorum.ts';
import { MAX_PENDING_READS, ReadOnly } from './read-only.ts';
import {
  NONE,
  RaftStorageError,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Role,
  type Snapshot,
  type TestBugs,
} from './types.ts';
import { payloadSize } from './util.ts';

const TRANSFER = 'transfer';

type CampaignType = 'preElection' | 'election' | 'transfer';

/** A message with every field defaulted; `fields` overrides. */
export function message(type: MessageType, fields: Partial<Message>): Message {
  return {
    type,
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

function voteRespType(t: MessageType): MessageType {
  return t === 'MsgPreVote' ? 'MsgPreVoteResp' : 'MsgVoteResp';
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = 'follower';
  readonly log: RaftLog;
  voters: NodeId[] = [];
  learners: NodeId[] = [];
  readonly prs = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change the leader appended; one at a time until applied. */
  pendingConfIndex = 0;
  uncommittedSize = 0;
  private readOnly = new ReadOnly();
  private pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  /** Ticks left during which no MsgVote is granted (holdVotes). */
  private voteHold = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly maxMsgSize: number;
  private readonly maxInflight: number;
  private readonly maxInflightBytes: number;
  private readonly maxUncommittedSize: number;
  private readonly random: () => number;
  private readonly snapshotRetryTicks: number;
  readonly bugs: TestBugs;

  constructor(c: RaftConfig) {
    if (!Number.isInteger(c.id) || c.id <= 0) throw new Error('raft: id must be a positive integer');
    if (!(c.heartbeatTick > 0) || !(c.electionTick > c.heartbeatTick))
      throw new Error('raft: need 0 < heartbeatTick < electionTick');
    if (typeof c.random !== 'function') throw new Error('raft: config.random (a seeded source) is required');
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxInflight = c.maxInflightMsgs ?? 256;
    this.maxInflightBytes = c.maxInflightBytes ?? 0;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? 0;
    this.random = c.random;
    this.snapshotRetryTicks = c.snapshotRetryTicks ?? c.electionTick;
    this.bugs = c.testBugs ?? {};
    this.log = new RaftLog(c.storage);
    const { hardState, confState } = c.storage.initialState();
    const cs =
      confState.voters.length + confState.learners.length > 0
        ? confState
        : { voters: [...(c.voters ?? [])], learners: [...(c.learners ?? [])] };
    this.setConf(cs);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied && c.applied > 0) this.log.appliedTo(Math.min(c.applied, this.log.committed));
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new Error(`raft: persisted commit ${hs.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  isLearner(): boolean {
    return this.learners.includes(this.id);
  }

  /** Only a voter in the current configuration may campaign (thesis §4.2.1). */
  promotable(): boolean {
    return this.voters.includes(this.id);
  }

  // ---- membership -------------------------------------------------------------------

  private setConf(cs: ConfState): void {
    this.voters = [...cs.voters].sort((a, b) => a - b);
    this.learners = [...cs.learners].sort((a, b) => a - b);
    const next = this.log.lastIndex() + 1;
    for (const id of [...this.prs.keys()]) {
      if (!this.voters.includes(id) && !this.learners.includes(id)) this.prs.delete(id);
    }
    for (const id of this.voters) this.ensureProgress(id, false, next);
    for (const id of this.learners) this.ensureProgress(id, true, next);
  }

  private ensureProgress(id: NodeId, learner: boolean, next: number): void {
    const pr = this.prs.get(id);
    if (pr) {
      pr.isLearner = learner;
      return;
    }
    const p = new Progress(next, learner, this.maxInflight, this.maxInflightBytes);
    // A new member counts as active so CheckQuorum does not depose the leader at once.
    p.recentActive = true;
    this.prs.set(id, p);
  }

  applyConfChange(cc: ConfChange): ConfState {
    this.setConf(cc.confState ?? applyToConfState(this.confState(), cc));
    if (this.role !== 'leader') return this.confState();
    if (!this.promotable()) {
      // A removed (or demoted) leader steps down once the change is committed (thesis §4.2.2).
      this.becomeFollower(this.term, NONE);
      return this.confState();
    }
    if (this.leadTransferee !== NONE && !this.voters.includes(this.leadTransferee)) this.abortLeaderTransfer();
    // A smaller quorum may commit more; a new member needs the log.
    if (this.maybeCommit()) this.bcastAppend();
    else for (const id of this.prs.keys()) if (id !== this.id) this.maybeSendAppend(id, false);
    return this.confState();
  }

  // ---- sending ----------------------------------------------------------------------

  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    // Vote messages carry their own term (a PreVote is for term+1); responses to a PreVote
    // carry the term asked about. Everything else carries ours; local proposals carry 0.
    if (
      m.type !== 'MsgVote' &&
      m.type !== 'MsgPreVote' &&
      m.type !== 'MsgVoteResp' &&
      m.type !== 'MsgPreVoteResp' &&
      m.type !== 'MsgProp' &&
      m.type !== 'MsgReadIndex' &&
      m.type !== 'MsgTransferLeader'
    ) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends a MsgApp (or a MsgSnap when the entries are compacted away) if flow control
   *  allows; with sendIfEmpty false, only when there are entries to send. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] = [];
    if (prevTerm !== undefined && pr.next <= this.log.lastIndex()) {
      try {
        ents = this.log.entriesFrom(pr.next, this.maxMsgSize);
      } catch (err) {
        if (!(err instanceof RaftStorageError)) throw err;
        return this.sendSnapshot(to, pr);
      }
    }
    if (prevTerm === undefined) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      message('MsgApp', { to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }),
    );
    pr.sentEntries(ents.length, payloadSize(ents));
    return true;
  }

  /** InstallSnapshot (paper §7): the follower needs entries we no longer have. */
  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snap;
    try {
      snap = this.log.snapshot();
    } catch (err) {
      if (err instanceof RaftStorageError) return false;
      throw err;
    }
    if (snap.metadata.index === 0) throw new Error('raft: need a snapshot but storage has none');
    pr.becomeSnapshot(snap.metadata.index);
    this.send(message('MsgSnap', { to, snapshot: snap }));
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: string | undefined): void {
    const pr = this.prs.get(to)!;
    // Never tell a follower to commit past what it is known to hold (it may lack entries).
    const commit = Math.min(pr.match, this.log.committed);
    this.send(message('MsgHeartbeat', { to, commit, context: ctx }));
  }

  bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(ctx?: string): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  // ---- role changes -----------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.abortLeaderTransfer();
    this.votes.clear();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.prs) {
      const learner = pr.isLearner;
      const p = new Progress(last + 1, learner, this.maxInflight, this.maxInflightBytes);
      if (id === this.id) p.match = last;
      this.prs.set(id, p);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new Error('raft: leader cannot become pre-candidate');
    // A PreVote round changes neither term nor vote (thesis §9.6).
    this.votes.clear();
    this.lead = NONE;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new Error('raft: leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    if (this.role === 'follower') throw new Error('raft: follower cannot become leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.prs.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conf changes in the log we have not applied yet must be applied before another.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of our own term lets us commit (and learn) everything before it (§5.4.2, §8).
    this.appendEntry([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }]);
  }

  // ---- elections ----------------------------------------------------------------------

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    let ents: Entry[];
    try {
      ents = this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    } catch {
      return false;
    }
    return ents.some((e) => e.type === 'confChange');
  }

  hup(t: CampaignType): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // Campaigning with an unapplied conf change could use the wrong configuration.
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let term: number;
    let type: MessageType;
    if (t === 'preElection') {
      this.becomePreCandidate();
      type = 'MsgPreVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single voter wins at once.
      if (t === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send(message(type, { to: id, term, index, logTerm, context: t === 'transfer' ? TRANSFER : undefined }));
    }
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.voters, this.votes);
  }

  // ---- timers -----------------------------------------------------------------------

  tick(): void {
    if (this.voteHold > 0) this.voteHold--;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Grants no MsgVote for the next `ticks` ticks (0 ends it). Paper §5.2 needs votedFor to
   *  survive a crash; a node whose durable state was lost (restarted with an empty data
   *  directory) may have voted in a term still being decided, so it waits until any election
   *  it could have voted in has timed out (a leadership transfer's vote is still granted). */
  holdVotes(ticks: number): void {
    this.voteHold = Math.max(0, ticks);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message('MsgHup', { from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message('MsgCheckQuorum', { from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message('MsgBeat', { from: this.id }));
    }
  }

  // ---- step ----------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // local message or forwarded proposal
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = m.context === TRANSFER;
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // Thesis §4.2.3: while we hear from a leader, ignore (pre)votes, so a node that was
        // partitioned away cannot depose a healthy leader when it comes back.
        if (!force && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // Never change our term on a PreVote.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // We bump the term when we win the PreVote and campaign for real.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (say, one that was partitioned away) learns our term from the
        // answer and steps down; without it, a node that advanced its term while cut off
        // could never rejoin (PreVote keeps its term, CheckQuorum ignores its votes).
        this.send(message('MsgAppResp', { to: m.from }));
      } else if (m.type === 'MsgPreVote') {
        this.send(message('MsgPreVoteResp', { to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        // Paper §5.2: one vote per term, first come first served; §5.4.1: only for a log at
        // least as up-to-date as ours. A PreVote for a later term promises nothing.
        let canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        if (this.bugs.doubleVote && m.type === 'MsgVote') canVote = true;
        if (this.voteHold > 0 && m.type === 'MsgVote' && m.context !== TRANSFER) canVote = false;
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.send(message(voteRespType(m.type), { to: m.from, term: m.term }));
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(message(voteRespType(m.type), { to: m.from, term: this.term, reject: true }));
        }
        return;
      }
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  // ---- leader ----------------------------------------------------------------------

  appendEntry(es: Entry[]): boolean {
    let li = this.log.lastIndex();
    const size = payloadSize(es);
    if (
      this.maxUncommittedSize > 0 &&
      this.uncommittedSize > 0 &&
      this.uncommittedSize + size > this.maxUncommittedSize
    )
      return false;
    this.uncommittedSize += size;
    const stamped = es.map((e) => ({ term: this.term, index: ++li, type: e.type, data: e.data }));
    li = this.log.append(stamped);
    this.prs.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  maybeCommit(): boolean {
    const mci = committedIndex(this.voters, (id) => this.prs.get(id)?.match ?? 0);
    if (this.bugs.commitPreviousTermByCount) {
      if (mci > this.log.committed && mci <= this.log.lastIndex()) {
        this.log.commitTo(mci);
        return true;
      }
      return false;
    }
    // Paper §5.4.2 / Figure 8: only an entry of the current term is committed by counting.
    return this.log.maybeCommit(mci, this.term);
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.maxUncommittedSize === 0) return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - payloadSize(ents));
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.prs) {
      if (id === this.id) votes.set(id, true);
      else if (!pr.isLearner) votes.set(id, pr.recentActive);
    }
    return voteResult(this.voters, votes) === 'won';
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(message('MsgTimeoutNow', { to }));
  }

  private respondReadIndex(index: number, from: NodeId, ctx: string): void {
    if (from === NONE || from === this.id) this.readStates.push({ index, requestCtx: ctx });
    else this.send(message('MsgReadIndexResp', { to: from, index, context: ctx }));
  }

  private handleReadIndex(m: Message): void {
    const ctx = m.context ?? '';
    if (this.voters.length === 1) {
      this.respondReadIndex(this.log.committed, m.from, ctx);
      return;
    }
    // Thesis §6.4: the commit index is only known to be current once an entry of this
    // term committed; then a heartbeat round confirms we are still the leader.
    this.readOnly.add(this.log.committed, m.from, ctx);
    this.readOnly.ack(this.id, ctx);
    this.bcastHeartbeat(ctx);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const ms = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of ms) this.handleReadIndex(m);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        for (const [id, pr] of this.prs) {
          // A MsgSnap may have been lost: after an election timeout without progress, probe again.
          if (
            id !== this.id &&
            pr.state === 'snapshot' &&
            this.snapshotRetryTicks > 0 &&
            ++pr.snapshotRounds * this.heartbeatTimeout >= this.snapshotRetryTicks
          )
            pr.becomeProbe();
        }
        this.bcastHeartbeat(this.readOnly.lastPendingCtx());
        return;
      case 'MsgCheckQuorum':
        if (!this.quorumActive()) {
          // Thesis §6.2: a leader cut off from a majority steps down.
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
        return;
      case 'MsgProp': {
        if (m.entries.length === 0) return;
        if (!this.prs.has(this.id) || this.leadTransferee !== NONE) return;
        const es: Entry[] = [];
        for (const e of m.entries) {
          if (e.type === 'confChange') {
            const cc = decodeConfChange(e.data);
            const refused =
              this.pendingConfIndex > this.log.applied
                ? 'an earlier change is not applied yet'
                : refuseConfChange(this.confState(), cc, (id) => this.prs.get(id)?.match ?? 0, this.log.committed);
            if (refused) continue;
            this.pendingConfIndex = this.log.lastIndex() + es.length + 1;
            // Stamp the resulting membership: all earlier changes are applied here (the
            // pendingConfIndex check), so this is what every node must have after it.
            const stamped = { ...cc, confState: applyToConfState(this.confState(), cc) };
            es.push({ ...e, data: encodeConfChange(stamped) });
            continue;
          }
          es.push(e);
        }
        if (es.length === 0 || !this.appendEntry(es)) return;
        this.bcastAppend();
        return;
      }
      case 'MsgReadIndex':
        if (this.voters.length > 1 && !this.committedEntryInCurrentTerm()) {
          if (this.pendingReadIndexMessages.length < MAX_PENDING_READS) this.pendingReadIndexMessages.push(m);
          return;
        }
        this.handleReadIndex(m);
        return;
      case 'MsgTransferLeader':
        this.handleTransferLeader(m);
        return;
    }
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'MsgAppResp':
        pr.recentActive = true;
        if (m.reject) {
          if (m.index >= pr.match && m.rejectHint < pr.match) {
            // A correct follower holds every entry up to match, so its hint is never below
            // it: this one lost its log (restarted with an empty data directory). etcd
            // stalls here until the member is removed and re-added; we probe it from its
            // real last index instead (a snapshot if that is compacted away). It may have
            // forgotten a vote too (paper §5.2 needs votedFor durable): its driver holds its
            // votes for a while after such a start (holdVotes, lib/cluster/vote-hold.ts).
            pr.match = m.rejectHint;
            pr.becomeProbe();
            pr.next = m.rejectHint + 1;
            this.sendAppend(m.from);
            return;
          }
          let probe = m.rejectHint;
          if (m.logTerm > 0) probe = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          if (pr.maybeDecrTo(m.index, probe)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        {
          const wasPaused = pr.isPaused();
          if (!pr.maybeUpdate(m.index)) return;
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
            // The snapshot landed (or the follower caught up another way): stream again.
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
          if (this.maybeCommit()) {
            this.releasePendingReadIndexMessages();
            this.bcastAppend();
          } else if (wasPaused) {
            this.sendAppend(m.from);
          }
          while (this.maybeSendAppend(m.from, false)) {
            /* fill the window */
          }
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
        }
        return;
      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.paused = false;
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
        if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.sendAppend(m.from);
        if (m.context === undefined || !this.voters.includes(m.from)) return;
        const acks = this.readOnly.ack(m.from, m.context);
        if (!acks || voteResult(this.voters, acks) !== 'won') return;
        for (const r of this.readOnly.advance(m.context)) this.respondReadIndex(r.index, r.from, r.ctx);
        return;
      }
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the next heartbeat response before sending more (etcd does the same).
        pr.paused = true;
        return;
      case 'MsgUnreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
    }
  }

  private handleTransferLeader(m: Message): void {
    const transferee = m.from;
    const pr = this.prs.get(transferee);
    if (!pr || pr.isLearner) return;
    if (this.leadTransferee === transferee) return;
    this.abortLeaderTransfer();
    if (transferee === this.id) return;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  // ---- candidate -------------------------------------------------------------------

  private stepCandidate(m: Message): void {
    const myResp: MessageType = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myResp: {
        const r = this.poll(m.from, !m.reject);
        if (r === 'won') {
          if (this.role === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
    }
  }

  // ---- follower --------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
      case 'MsgTransferLeader':
      case 'MsgReadIndex':
        if (this.lead === NONE) return;
        this.send({ ...m, to: this.lead });
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTimeoutNow':
        // Leadership transfer: campaign at once, skipping PreVote (thesis §3.10).
        this.hup('transfer');
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? '' });
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message('MsgAppResp', { to: m.from, index: this.log.committed }));
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send(message('MsgAppResp', { to: m.from, index: last }));
      return;
    }
    // Reject with a hint: our last index ≤ m.index whose term is ≤ m.logTerm, so the
    // leader can skip every entry of a conflicting term in one round trip.
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      message('MsgAppResp', { to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }),
    );
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), which a follower that lost its log may lack: it
    // answers anyway, so the leader probes it and finds out (see the MsgAppResp reject).
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message('MsgHeartbeatResp', { to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (this.restore(s)) this.send(message('MsgAppResp', { to: m.from, index: this.log.lastIndex() }));
    else this.send(message('MsgAppResp', { to: m.from, index: this.log.committed }));
  }

  /** Installs a snapshot from the leader; false when it is stale or already covered. */
  private restore(s: Snapshot): boolean {
    const meta = s.metadata;
    if (meta.index <= this.log.committed) return false;
    const cs = meta.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) return false;
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the entry: just fast-forward the commit index.
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restore(s);
    this.prs.clear();
    this.setConf(cs);
    const self = this.prs.get(this.id);
    if (self) self.match = meta.index;
    return true;
  }
}
