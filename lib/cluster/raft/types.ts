// The public API of the pure Raft core (modelled on etcd-io/raft raft.go + rawnode.go).
// Everything here is plain data: no classes with hidden state cross the API, so messages,
// entries and Ready batches can be cloned, logged and replayed. The core never mutates an
// Entry, Message or Snapshot after it has handed it out, so a transport may share them.
// Uint8Array payloads survive structuredClone; for JSON use encodeMessage/decodeMessage
// (codec.ts), which turns them into base64.

/** A node id: a positive integer. 0 (NONE) means "nobody" (no vote, no leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export type EntryType = 'normal' | 'confChange';

/** One log entry. A confChange entry's data is encodeConfChange(cc). An empty normal entry
 *  is what a new leader appends in its term (Raft paper §8, thesis §6.4). */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** Persisted before any message that depends on it is sent (paper Figure 2 "Persistent state"). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** Membership: voters decide elections and commitment; learners only receive the log. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** One server at a time (thesis §4.1). Promoting a learner is addNode on a learner. */
export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Free text the application may carry along (for example the new node's address). */
  context?: string;
  /** Set by the leader when it appends the change: the whole membership after it. Every
   *  node adopts this on apply, so a joiner that started with an empty configuration still
   *  ends up with the right one (the bootstrap membership is not in the log). */
  confState?: ConfState;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** Message types. Those marked local never cross the network: the core makes them from
 *  method calls (tick, campaign, propose, ...); step() refuses them from outside except
 *  MsgProp (a forwarded proposal) and MsgTransferLeader / MsgReadIndex (forwarded). */
export type MessageType =
  | 'MsgHup' // local: start an election
  | 'MsgBeat' // local: leader sends heartbeats
  | 'MsgProp' // a proposal, possibly forwarded from a follower to the leader
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgUnreachable' // local: transport could not reach `from`
  | 'MsgSnapStatus' // local: transport finished (reject=false) or failed (reject=true) a snapshot
  | 'MsgCheckQuorum' // local: leader checks it heard from a quorum (thesis §6.2)
  | 'MsgTransferLeader' // to the leader: hand leadership to `from` (thesis §3.10)
  | 'MsgTimeoutNow' // leader → transferee: campaign now, skipping PreVote and the lease
  | 'MsgReadIndex' // follower → leader, or local on the leader (thesis §6.4)
  | 'MsgReadIndexResp';

/** One message. Fields not meaningful for a type are 0 / [] / false / undefined. */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  /** The sender's term; 0 for local messages and forwarded proposals (MsgProp). */
  term: number;
  /** MsgApp: term of the entry before `entries`; MsgVote/MsgPreVote: candidate's last term;
   *  MsgAppResp with reject: the follower's term at rejectHint (fast backtracking). */
  logTerm: number;
  /** MsgApp: index of the entry before `entries`; MsgVote: candidate's last index;
   *  MsgAppResp: the highest index now matching (or the rejected index); MsgReadIndexResp:
   *  the read index. */
  index: number;
  entries: Entry[];
  /** MsgApp / MsgHeartbeat: the leader's commit index (capped at what the follower matches). */
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** MsgAppResp with reject: the follower's last index ≤ the probed index whose term is
   *  ≤ logTerm of the probe (etcd's findConflictByTerm), so the leader skips a whole term. */
  rejectHint: number;
  /** ReadIndex request context (heartbeats carry it for the quorum check); 'transfer' on a
   *  MsgVote started by MsgTimeoutNow, so voters ignore their leader lease. */
  context?: string;
}

/** Test-only switches that plant known bugs, so the simulation can prove it catches them.
 *  Never set in production; every one of them breaks safety. */
export interface TestBugs {
  /** Commit any entry replicated on a quorum, even from a previous term (paper Figure 8 bug). */
  commitPreviousTermByCount?: boolean;
  /** Grant a vote even after voting for someone else in the same term. */
  doubleVote?: boolean;
  /** Hand out messages (vote grants, append acks, ...) one Ready before the hard state and
   *  entries they depend on: those (and the entries to apply) are withheld until the node's
   *  next tick() or step(), so a crash in between loses a vote or an entry that others were
   *  already told about. */
  sendBeforePersist?: boolean;
}

/** The read side of durable storage, which the core consults (etcd's Storage). Errors are
 *  thrown as RaftStorageError. Indexes: the log holds firstIndex()..lastIndex(); term() also
 *  answers for firstIndex()-1 (the snapshot's index). */
export interface RaftStorage {
  /** What was persisted: hard state and the membership of the latest snapshot/conf state. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at least one even if larger than maxSize; throws 'compacted' if
   *  lo < firstIndex(), 'unavailable' if hi > lastIndex()+1. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i, for firstIndex()-1 ≤ i ≤ lastIndex(); throws 'compacted' / 'unavailable'. */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (may have index 0 and empty data when none was taken). */
  snapshot(): Snapshot;
}

/** Storage the application writes to while handling a Ready (MemoryStorage, SqliteRaftStorage). */
export interface WritableRaftStorage extends RaftStorage {
  /** Persist one Ready's snapshot, entries and hard state, in that order, atomically and
   *  durably (one fsync), before the Ready's messages are sent. */
  save(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): void;
  /** Appends entries, first discarding any stored entries at and after entries[0].index
   *  (a conflicting suffix the leader overwrote, paper §5.3). Durable on return. */
  append(entries: Entry[]): void;
  setHardState(hs: HardState): void;
  /** Records the membership the application applied (returned by applyConfChange), so
   *  initialState() reports it after a restart. */
  setConfState(cs: ConfState): void;
  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void;
  /** Records a snapshot the application took at `index` (≤ applied) with its state bytes. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot;
  /** Drops entries before `index` (they must be covered by a snapshot or be applied). */
  compact(index: number): void;
}

export type RaftStorageErrorCode = 'compacted' | 'unavailable' | 'snapshotOutOfDate' | 'snapshotTemporarilyUnavailable';

export class RaftStorageError extends Error {
  readonly code: RaftStorageErrorCode;
  constructor(code: RaftStorageErrorCode, message?: string) {
    super(message ?? `raft storage: ${code}`);
    this.name = 'RaftStorageError';
    this.code = code;
  }
}

export interface RaftConfig {
  id: NodeId;
  /** Voters of a brand-new cluster. Ignored when storage already holds a conf state
   *  (after a restart or a snapshot), which wins. */
  voters?: NodeId[];
  learners?: NodeId[];
  /** Ticks without hearing from a leader before campaigning; the actual timeout is drawn
   *  uniformly from [electionTick, 2*electionTick) with `random` (paper §5.2). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  storage: RaftStorage;
  /** The last index the application has applied (after a restart); default 0. */
  applied?: number;
  /** Campaign with a PreVote round first (thesis §9.6). Default false. */
  preVote?: boolean;
  /** A leader that did not hear from a quorum in an election timeout steps down, and
   *  followers ignore vote requests while they have a live leader (thesis §6.2, §4.2.3). */
  checkQuorum?: boolean;
  /** Max MsgApp messages in flight to one follower in replicate state; default 256. */
  maxInflightMsgs?: number;
  /** Max bytes of entry data in flight to one follower; default 0 = unlimited. */
  maxInflightBytes?: number;
  /** Max bytes of entry data per MsgApp (at least one entry is always sent); default 1 MiB. */
  maxSizePerMsg?: number;
  /** Max bytes of uncommitted entry data the leader accepts; default 0 = unlimited. */
  maxUncommittedEntriesSize?: number;
  /** Max bytes of committed entries per Ready; default = maxSizePerMsg × 64. */
  maxCommittedSizePerReady?: number;
  /** Ticks a follower may stay in snapshot state without news before the leader assumes the
   *  MsgSnap was lost and probes again (resending the snapshot if still needed). Default
   *  electionTick; 0 = never (wait for reportSnapshot). A transport that streams snapshots
   *  for longer than this should raise it. */
  snapshotRetryTicks?: number;
  /** Seeded random source in [0, 1), for election timeout jitter. Required: the core has no
   *  ambient randomness. */
  random: () => number;
  testBugs?: TestBugs;
}

/** Volatile state worth telling the application about when it changes. */
export interface SoftState {
  lead: NodeId;
  role: Role;
}

/** A linearizable read may be served once the application has applied up to `index`. */
export interface ReadState {
  index: number;
  requestCtx: string;
}

/** One batch of work for the application, in this order (see API.md "The Ready loop"):
 *  1. persist snapshot, entries and hardState (fsync: mustSync);
 *  2. only then send messages;
 *  3. apply committedEntries (confChange ones through applyConfChange), serve readStates;
 *  4. call advance(). */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  /** True when hardState (term/vote) or entries changed, i.e. an fsync is needed. */
  mustSync: boolean;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  learner: boolean;
  recentActive: boolean;
  inflight: number;
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  role: Role;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Only on the leader: replication progress of every member, itself included. */
  progress?: Record<number, ProgressStatus>;
}

export type BasicStatus = Pick<Status, 'role' | 'term' | 'lead'>;

/** What the RaftNode class (raft-node.ts) offers; written out here so the API is in one file. */
export interface RaftNodeApi {
  /** Advance logical time by one tick (election and heartbeat timers). */
  tick(): void;
  /** Start an election now (the interaction scripts' `campaign`). */
  campaign(): void;
  /** Feed a message received from the network. Messages for an unknown term/peer are
   *  handled per the paper (stale ones ignored or answered). */
  step(msg: Message): void;
  /** Propose a normal entry. False when dropped: no known leader, a leadership transfer is
   *  under way, or the uncommitted-size limit is hit. True means appended on the leader or
   *  forwarded to it — not committed; watch committedEntries for it. */
  propose(data: Uint8Array): boolean;
  /** Propose one membership change. False when dropped, including while an earlier
   *  change is not yet applied (one at a time, thesis §4.1). */
  proposeConfChange(cc: ConfChange): boolean;
  /** Apply a committed confChange entry; returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState;
  /** Ask the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: NodeId): void;
  /** Request a linearizable read; the answer comes as a ReadState with this ctx. */
  readIndex(ctx: string): void;
  hasReady(): boolean;
  ready(): Ready;
  /** Acknowledge the last Ready: everything in it was persisted, sent and applied. */
  advance(): void;
  /** The transport could not deliver to `id`: the leader goes back to probing it. */
  reportUnreachable(id: NodeId): void;
  /** The transport finished sending a snapshot to `id` (or failed). */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void;
  status(): Status;
  /** Role, term and leader without the rest of status() (no progress copy): etcd's
   *  BasicStatus, for callers on every request. */
  basicStatus(): BasicStatus;
  /** The node's log including not-yet-persisted entries: for invariant checks in tests. */
  firstIndex(): number;
  lastIndex(): number;
  /** Term at index i, or undefined when compacted or beyond the log. */
  termAt(i: number): number | undefined;
  /** Entries [lo, hi) of the node's log (lo ≥ firstIndex()). */
  entries(lo: number, hi: number): Entry[];
}
