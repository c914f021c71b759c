// What a ClusterNode offers and needs, apart from the driver itself (node.ts): the state
// machine it replicates, its options, its status and the error a caller may retry.
import type { ConfState, Entry, NodeId, Role } from './raft/index.ts';
import type { Member } from './snapshot-data.ts';
import type { HttpTransportOptions } from './transport-http.ts';

/** The replicated state machine (the metadata database in cluster mode). */
export interface StateMachine {
  /** The index of the last entry the state reflects (durably), 0 for a new one. */
  applied(): number;
  /** Applies one committed normal entry; the result goes to the proposer on this node. */
  apply(entry: Entry): unknown;
  /** Optional: applies a Ready's committed normal entries at once (results in order). */
  applyAll?(entries: readonly Entry[]): unknown[];
  /** A consistent copy of the whole state (for a snapshot at the current applied index). */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot taken at `index`. */
  restore(data: Uint8Array, index: number): void;
  /** Optional: restore from a file holding what snapshot()/copyTo wrote, without reading it
   *  into memory. The file is not the state machine's to remove. */
  restoreFile?(file: string, index: number): void;
  /**
   * Optional, with copyTo: a state machine kept in its own durable file. Makes everything
   * applied durable and marks it as the state at `index` (the entries after its last applied
   * command changed nothing in it: empty or membership entries), so log compaction needs no
   * copy of the state (the snapshot in the Raft storage then holds the member directory only).
   */
  persist?(index: number): void;
  /** Writes a consistent copy of the state to `file` off the event loop; resolves with the
   *  index it reflects. A snapshot to send is made this way when a follower needs one. */
  copyTo?(file: string): Promise<number>;
}

export interface ClusterNodeOptions {
  id: NodeId;
  /** Voters of a brand-new cluster (ignored once storage holds a membership). */
  voters: NodeId[];
  /** Addresses of the other members. */
  peers: Map<NodeId, string>;
  storagePath: string;
  host: string;
  port: number;
  secret: string;
  stateMachine: StateMachine;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** Applied entries between snapshots; default 10000. */
  snapshotInterval?: number;
  /** Entries kept behind a snapshot; default 8192. */
  snapshotThreshold?: number;
  maxAppendEntries?: number;
  /** How long a proposal or read may wait; default 10 s. */
  timeoutMs?: number;
  onFatal?: (err: Error) => void;
  /** Operator names and addresses of the members (Raft id → {name, addr}), self included. */
  directory?: Map<NodeId, Member>;
  /** Extra routes on the cluster port (see HttpTransportOptions). */
  routes?: HttpTransportOptions['routes'];
  streamRoutes?: HttpTransportOptions['streamRoutes'];
  /** A peer's request was refused (wrong secret, clock, or protocol version). */
  onRefused?: HttpTransportOptions['onRefused'];
}

/** A request this node cannot serve now; the caller may retry (here or on `leader`). */
export class ClusterUnavailableError extends Error {
  readonly retryable = true;
  readonly leader: NodeId;
  /** 'notLeader': nothing was proposed; 'dropped': the entry was overwritten and never
   *  applied; 'unknown': it may still be applied (timeout). */
  readonly outcome: 'notLeader' | 'dropped' | 'unknown';
  constructor(message: string, outcome: ClusterUnavailableError['outcome'], leader: NodeId) {
    super(message);
    this.name = 'ClusterUnavailableError';
    this.outcome = outcome;
    this.leader = leader;
  }
}

export interface ClusterNodeStatus {
  id: NodeId;
  role: Role;
  leader: NodeId;
  term: number;
  commit: number;
  applied: number;
  lastIndex: number;
  lastTerm: number;
  snapshotIndex: number;
  snapshotTerm: number;
  /** Milliseconds since a message from the leader arrived: 0 on the leader, -1 if never. */
  lastContactMs: number;
  leaderChanges: number;
  /** Proposals the Raft core accepted on this node since start. */
  proposals: number;
  confState: ConfState;
}
