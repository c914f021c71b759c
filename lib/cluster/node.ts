// Drives one RaftNode over real time, durable storage and the HTTP transport: the tick timer,
// the Ready loop (lib/cluster/raft/API.md: persist with fsync, only then send, then apply,
// then advance), proposals that resolve once applied locally, and ReadIndex reads.
import { existsSync, rmSync } from 'node:fs';
import {
  NONE,
  RaftNode,
  decodeConfChange,
  type ConfChange,
  type Message,
  type NodeId,
  type Ready,
  type Role,
} from './raft/index.ts';
import { SqliteRaftStorage } from './raft-storage-sqlite.ts';
import { appendsOnly, appliesDurable } from './ready-order.ts';
import { type PendingProposal, ProposalBatcher } from './proposal-batcher.ts';
import { clearSnapshotDir } from './snapshot-file.ts';
import { HttpTransport } from './transport-http.ts';
import {
  ClusterUnavailableError,
  type ClusterNodeOptions,
  type ClusterNodeStatus,
  type StateMachine,
} from './node-api.ts';
import { decodeSnapshot, encodeSnapshot, refOf, type Member } from './snapshot-data.ts';
import { keepReceived, pruneKeptSnapshots, restoreState } from './snapshot-keep.ts';
import { SnapshotSender } from './snapshot-sender.ts';
import { ReadIndexReads } from './read-index.ts';
import { Waiters } from './waiters.ts';
import { SeqWaiters } from '../seq-waiters.ts';
import { isNewCluster } from './vote-hold.ts';
import { Membership } from './membership.ts';
import { ConfigError } from '../config-error.ts';

export type { Member } from './snapshot-data.ts';
export { ClusterUnavailableError } from './node-api.ts';
export type { ClusterNodeOptions, ClusterNodeStatus, StateMachine } from './node-api.ts';

/** Incoming snapshots are written here as they arrive (lib/cluster/snapshot-file.ts). */
const incomingSnapshots = (storagePath: string): string => `${storagePath}-snapshot-in`;
/** Copies of the state machine being sent to followers (lib/cluster/snapshot-sender.ts). */
const outgoingSnapshots = (storagePath: string): string => `${storagePath}-snapshot-out`;
/** A peer's current term (the vote hold of a node that starts with no durable state). */
const TERM_PATH = '/raft/term';

export class ClusterNode {
  readonly id: NodeId;
  readonly transport: HttpTransport;
  readonly healthWindowMs: number; // a peer that answered within this long is healthy (admin API)
  private readonly raft: RaftNode;
  private lastLeaderContact = 0;
  private readonly storage: SqliteRaftStorage;
  private readonly sm: StateMachine;
  private readonly o: ClusterNodeOptions;
  private applied: number;
  private timer: NodeJS.Timeout | undefined;
  private driving = false;
  private stopped = false;
  private leaderChanges = 0;
  private proposals_ = 0;
  private lastLeader = 0;
  private readonly proposals: Waiters<number>;
  /** Proposals waiting to go to Raft together (group commit on the leader). */
  private readonly batcher: ProposalBatcher;
  /** Names and addresses of the members; changed only by applied conf changes, and kept in
   *  snapshots so a node restored from one still knows them. */
  readonly directory: Map<NodeId, Member>;
  private readonly membership: Membership;
  private readonly reads: ReadIndexReads;
  /** Callers of appliedAtLeast(), woken as soon as applied reaches their index. */
  private readonly appliedWaiters = new SeqWaiters();
  /** Set when the state machine keeps itself durable (persist and copyTo): compaction then
   *  copies nothing, and snapshots are made when a follower needs one. */
  private readonly snapshotSender: SnapshotSender | undefined;
  /** The index of the last membership change applied. */
  private confChangedAt = 0;
  /** The Raft storage was empty at start (new node, or its data directory was lost). */
  private startedEmpty = false;

  private constructor(o: ClusterNodeOptions) {
    this.o = o;
    this.id = o.id;
    this.healthWindowMs = Math.max(2000, 2 * o.electionTimeoutMs);
    this.sm = o.stateMachine;
    this.directory = new Map(o.directory ?? []);
    const lead = () => this.raft.basicStatus().lead;
    this.proposals = new Waiters(o.timeoutMs ?? 10_000, lead);
    this.reads = new ReadIndexReads({
      id: o.id,
      timeoutMs: o.timeoutMs ?? 10_000,
      leader: lead,
      askIndex: (ctxs) =>
        this.input(() => {
          for (const ctx of ctxs) this.raft.readIndex(ctx);
        }),
    });
    this.batcher = new ProposalBatcher({
      busy: () => this.raft.basicStatus().role === 'leader' && this.transport.allBusy(),
      propose: (batch) => this.proposeBatch(batch),
      drive: () => this.drive(),
      input: (fn) => this.input(fn),
    });
    this.storage = new SqliteRaftStorage({ path: o.storagePath, voters: o.voters });
    this.transport = new HttpTransport({
      id: o.id,
      secret: o.secret,
      host: o.host,
      port: o.port,
      peers: o.peers,
      // A peer's replies ride back on the response to the batch they answer (one HTTP exchange
      // per batch instead of two); that response waits for the peer's fsync and apply, so the
      // deadline is two election timeouts rather than one.
      askReplies: true,
      timeoutMs: Math.max(2000, 2 * o.electionTimeoutMs),
      onMessages: (msgs) => {
        this.input(() => {
          const lead = this.raft.basicStatus().lead;
          if (lead && msgs.some((m) => m.from === lead)) this.lastLeaderContact = Date.now();
          for (const m of msgs) this.stepSafe(m);
          // An answer arrived, so a batch to that peer can leave: held proposals go with it.
          this.batcher.answered();
        });
        // A received snapshot's file the Ready loop did not keep (the core refused the
        // snapshot: stale, or not for this membership) is of no use.
        for (const m of msgs) {
          const f = m.snapshot && refOf(decodeSnapshot(m.snapshot.data).state);
          if (f) rmSync(f, { force: true });
        }
      },
      onUnreachable: (id) => this.input(() => this.raft.reportUnreachable(id)),
      onSnapshotStatus: (id, s) => this.input(() => this.raft.reportSnapshot(id, s)),
      snapshotDir: incomingSnapshots(o.storagePath),
      routes: {
        [TERM_PATH]: (_req, res) => {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ term: this.storage.hardState().term }));
        },
        ...o.routes,
      },
      ...(o.streamRoutes ? { streamRoutes: o.streamRoutes } : {}),
      ...(o.onRefused ? { onRefused: o.onRefused } : {}),
    });
    if (this.sm.persist && this.sm.copyTo) {
      const copyTo = this.sm.copyTo.bind(this.sm);
      this.snapshotSender = new SnapshotSender({
        dir: outgoingSnapshots(o.storagePath),
        transport: this.transport,
        copyTo,
        termAt: (i) => this.raft.termAt(i),
        membership: () => ({
          confState: this.raft.status().confState,
          directory: this.directory,
          changedAt: this.confChangedAt,
        }),
        failed: (to) => this.input(() => this.raft.reportSnapshot(to, 'failure')),
        stopped: () => this.stopped,
      });
    }
    // A state machine behind the latest snapshot (new, or its own file lost) starts from it.
    const snap = this.storage.snapshot();
    this.applied = this.sm.applied();
    const stored = snap.metadata.index > 0 ? decodeSnapshot(snap.data).state : new Uint8Array();
    const ref = refOf(stored);
    pruneKeptSnapshots(o.storagePath, ref);
    if (snap.metadata.index > this.applied) {
      if (stored.byteLength === 0 || (ref && !existsSync(ref)))
        throw new ConfigError(
          `the state machine is at index ${this.applied}, behind the Raft snapshot at ${snap.metadata.index} that its own file stood for: the metadata database was lost or replaced. Remove ${o.storagePath} too, and the node rejoins from a peer's snapshot.`,
        );
      this.restore(snap.data, snap.metadata.index);
      this.applied = snap.metadata.index;
    } else if (snap.metadata.index > 0) {
      this.restoreDirectory(snap.data);
    }
    // Membership changes the state machine already reflects are not re-applied by the core:
    // replay their effect on the directory from the log after the snapshot.
    const from = Math.max(snap.metadata.index + 1, this.storage.firstIndex());
    if (this.applied >= from) {
      for (const e of this.storage.entries(from, this.applied + 1, Number.MAX_SAFE_INTEGER)) {
        if (e.type === 'confChange') this.applyDirectory(decodeConfChange(e.data));
      }
    }
    this.storage.raiseCommit(this.applied);
    const electionTick = Math.max(2, Math.round(o.electionTimeoutMs / o.heartbeatIntervalMs));
    this.raft = new RaftNode({
      id: o.id,
      voters: o.voters,
      electionTick,
      heartbeatTick: 1,
      storage: this.storage,
      applied: this.applied,
      preVote: true,
      checkQuorum: true,
      random: Math.random,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: o.maxAppendEntries ?? 64,
    });
    this.membership = new Membership({
      id: o.id,
      raft: this.raft,
      directory: this.directory,
      proposals: this.proposals,
      stopped: () => this.stopped,
      input: (fn) => this.input(fn),
      drive: () => this.drive(),
    });
    this.startedEmpty = this.storage.hardState().term === 0 && this.storage.lastIndex() === 0;
    // Longer than any election it could have voted in before its data was lost: a randomized
    // timeout is below 2 election timeouts, plus one for a vote request delayed in a queue.
    if (this.startedEmpty) this.raft.holdVotes(3 * electionTick);
  }

  /** See lib/cluster/vote-hold.ts. */
  private async releaseVotesIfNewCluster(): Promise<void> {
    const fresh = await isNewCluster({
      peers: [...new Set([...this.o.peers.keys(), ...this.directory.keys()])].filter((id) => id !== this.id),
      termOf: async (id) => {
        const r = await this.transport.request(id, 'GET', TERM_PATH, new Uint8Array(), 2 * this.o.heartbeatIntervalMs);
        return r.status === 200 ? (JSON.parse(r.body.toString()) as { term: number }).term : undefined;
      },
      deadlineMs: 3 * this.o.electionTimeoutMs,
      retryMs: this.o.heartbeatIntervalMs,
      stopped: () => this.stopped,
    });
    if (fresh) this.input(() => this.raft.holdVotes(0));
  }

  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    const n = new ClusterNode(o);
    await clearSnapshotDir(incomingSnapshots(o.storagePath));
    await clearSnapshotDir(outgoingSnapshots(o.storagePath));
    await n.transport.listen();
    n.drive(); // apply what is committed but not yet applied before answering anything
    if (n.startedEmpty) void n.releaseVotesIfNewCluster();
    n.timer = setInterval(
      () =>
        n.input(() => {
          n.raft.tick();
          n.membership.promoteLearners();
        }),
      o.heartbeatIntervalMs,
    );
    return n;
  }

  address(): string {
    return this.transport.address();
  }

  setPeer(id: NodeId, addr: string): void {
    this.transport.setPeer(id, addr);
  }

  /** This node's role and the leader it knows (0: none), cheaply: read on every request. */
  basicStatus(): { role: Role; leader: NodeId; applied: number } {
    const s = this.raft.basicStatus();
    return { role: s.role, leader: s.lead, applied: this.applied };
  }

  status(): ClusterNodeStatus {
    const s = this.raft.status();
    const snap = this.storage.snapshotMetadata();
    return {
      id: s.id,
      role: s.role,
      leader: s.lead,
      term: s.term,
      commit: s.commit,
      applied: this.applied,
      lastIndex: this.raft.lastIndex(),
      snapshotIndex: snap.index,
      snapshotTerm: snap.term,
      lastTerm: this.raft.termAt(this.raft.lastIndex()) ?? 0,
      lastContactMs: s.role === 'leader' ? 0 : this.lastLeaderContact ? Date.now() - this.lastLeaderContact : -1,
      leaderChanges: this.leaderChanges,
      proposals: this.proposals_,
      confState: s.confState,
    };
  }

  /** True while this node leads and hands its leadership over (Raft refuses proposals then). */
  handingOver(): boolean {
    const s = this.raft.status();
    return s.role === 'leader' && s.leadTransferee !== NONE;
  }

  /** Replication progress of every member (leader only). */
  progress(): Record<number, { match: number; recentActive: boolean }> | undefined {
    return this.raft.status().progress;
  }

  /** Proposes `data`; resolves with the state machine's result once applied on this node. */
  propose(data: Uint8Array): Promise<unknown> {
    const s = this.raft.basicStatus();
    if (this.stopped || s.role !== 'leader') {
      return Promise.reject(new ClusterUnavailableError(`node ${this.id} is not the leader`, 'notLeader', s.lead));
    }
    this.proposals_++;
    return new Promise((resolve, reject) => this.batcher.add({ data, resolve, reject }));
  }

  /** One batch of proposals as one MsgProp (lib/cluster/proposal-batcher.ts). */
  private proposeBatch(batch: PendingProposal[]): void {
    const s = this.raft.basicStatus();
    let refused: string | undefined;
    if (this.stopped || s.role !== 'leader') refused = `node ${this.id} is not the leader`;
    else if (!this.raft.proposeMany(batch.map((p) => p.data)))
      refused = 'the leader refused the proposal (leadership transfer or overload)';
    if (refused) {
      for (const p of batch) p.reject(new ClusterUnavailableError(refused, 'notLeader', s.lead));
      return;
    }
    const first = this.raft.lastIndex() - batch.length + 1;
    for (const [i, p] of batch.entries())
      this.proposals.register(
        first + i,
        s.term,
        'the proposal was not applied in time; it may still be',
        p.resolve,
        p.reject,
      );
  }

  /** Linearizable read barrier (lib/cluster/read-index.ts). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ClusterUnavailableError('node stopped', 'notLeader', 0));
    return this.reads.barrier();
  }

  /** Resolves once this node has applied `index` or after `timeoutMs`, whichever is first
   *  (a follower answering a forwarded write waits here for the leader's applied index). */
  appliedAtLeast(index: number, timeoutMs: number): Promise<void> {
    if (this.applied >= index || this.stopped) return Promise.resolve();
    return this.appliedWaiters.wait(index, timeoutMs).then(() => undefined);
  }

  private stepSafe(m: Message): void {
    try {
      this.raft.step(m);
    } catch {
      // A message the core refuses (a local type from outside) is dropped, never fatal.
    }
  }

  private input(fn: () => void): void {
    if (this.stopped) return;
    fn();
    this.drive();
  }

  /** The Ready loop. SQLite commits (fsync) before any message is handed out, except a
   *  leader's appends (see ready-order.ts), whose fsync overlaps the followers' own. */
  private drive(): void {
    if (this.driving || this.stopped) return;
    this.driving = true;
    let parked = false;
    try {
      while (this.raft.hasReady()) {
        const rd = this.raft.ready();
        if (rd.snapshot && rd.snapshot.metadata.index > this.applied)
          rd.snapshot = keepReceived(this.o.storagePath, rd.snapshot);
        if (appendsOnly(rd, this.raft.basicStatus().role, () => this.storage.hardState())) {
          for (const m of rd.messages) this.send(m);
          const early = appliesDurable(rd);
          if (early) this.applyReady(rd);
          // Block on the fsync only after node:http has written the appends (next tick) and
          // the answers to what was just applied have left (later microtasks). I/O handled
          // before it is only stepped, as etcd's node keeps stepping while its application
          // handles a Ready: the Ready loop stays parked, so whatever that commits (an
          // acknowledgement of these entries) is neither applied nor sent before they are
          // durable here.
          parked = true;
          setImmediate(() => this.finishReady(rd, early));
          return;
        }
        this.storage.save(rd); // 1. durable (synchronous=FULL commit) before sending
        for (const m of rd.messages) this.send(m); // 2.
        this.handleReady(rd); // 3.
        this.raft.advance(); // 4.
      }
    } catch (err) {
      this.fatal(err as Error);
    } finally {
      if (!parked) this.driving = false;
    }
  }

  private send(m: Message): void {
    if (m.type === 'MsgSnap' && this.snapshotSender) this.snapshotSender.send(m);
    else this.transport.send(m.to, m);
  }

  private finishReady(rd: Ready, applied: boolean): void {
    if (this.stopped) return;
    try {
      this.storage.save(rd);
      this.batcher.blocked();
      if (applied) this.maybeSnapshot();
      else this.handleReady(rd);
      this.raft.advance();
    } catch (err) {
      this.driving = false;
      this.fatal(err as Error);
      return;
    }
    this.driving = false;
    this.drive();
  }

  private handleReady(rd: Ready): void {
    // A joiner refuses a snapshot whose configuration does not list it (as etcd's core
    // does): after a membership change the next snapshot offered must already have it.
    if (this.applyReady(rd)) this.takeSnapshot();
    this.maybeSnapshot();
  }

  /** Applies a Ready's snapshot, committed entries and read states; true when the membership
   *  changed. */
  private applyReady(rd: Ready): boolean {
    if (rd.softState && rd.softState.role !== 'leader' && this.proposals.size) {
      // Deposed (paper §5.2): whether its proposals commit is now the next leader's to decide,
      // and this node hears of it within a heartbeat or two of learning that leader (applied,
      // or overwritten: 'dropped'). An isolated node learns nothing, so its proposals fail as
      // 'unknown' after two election timeouts rather than the whole proposal timeout.
      this.proposals.shorten(
        2 * this.o.electionTimeoutMs,
        'this node stopped leading before the proposal committed; it may still be applied',
      );
    }
    if (rd.softState && rd.softState.lead !== this.lastLeader) {
      if (rd.softState.lead) {
        this.leaderChanges++;
        setImmediate(() => this.reads.reissue());
      }
      this.lastLeader = rd.softState.lead;
    }
    if (rd.snapshot && rd.snapshot.metadata.index > this.applied) {
      this.restore(rd.snapshot.data, rd.snapshot.metadata.index);
      this.applied = rd.snapshot.metadata.index;
      pruneKeptSnapshots(this.o.storagePath, refOf(decodeSnapshot(rd.snapshot.data).state));
      // Proposals at or below the snapshot cannot be matched to their entry any more.
      const replaced = new ClusterUnavailableError(
        'outcome unknown: replaced by a snapshot',
        'unknown',
        rd.softState?.lead ?? 0,
      );
      for (const [i] of [...this.proposals.entries()]) if (i <= this.applied) this.proposals.settle(i, replaced);
    }
    let membershipChanged = false;
    const batched = new Map<number, unknown>();
    if (this.sm.applyAll) {
      const normal = rd.committedEntries.filter(
        (e) => e.index > this.applied && e.type !== 'confChange' && e.data.length,
      );
      if (normal.length) {
        const results = this.sm.applyAll(normal);
        for (const [i, e] of normal.entries()) batched.set(e.index, results[i]);
      }
    }
    for (const e of rd.committedEntries) {
      if (e.index <= this.applied) continue;
      let result: unknown;
      if (e.type === 'confChange') {
        const cc = decodeConfChange(e.data);
        const cs = this.raft.applyConfChange(cc);
        this.storage.setConfState(cs);
        this.applyDirectory(cc);
        this.confChangedAt = e.index;
        membershipChanged = true;
      } else if (e.data.length) {
        result = this.sm.applyAll ? batched.get(e.index) : this.sm.apply(e);
      }
      this.applied = e.index;
      const p = this.proposals.get(e.index);
      if (p)
        this.proposals.settle(
          e.index,
          p.term === e.term
            ? undefined
            : new ClusterUnavailableError(
                'the proposal was overwritten by a new leader and not applied',
                'dropped',
                this.raft.status().lead,
              ),
          result,
        );
    }
    this.reads.update(rd.readStates, this.applied);
    this.appliedWaiters.settle(this.applied + 1);
    return membershipChanged;
  }

  /** Log compaction (paper §7): snapshot the state machine every snapshotInterval applied
   *  entries, keep snapshotThreshold entries behind it for slightly lagging followers. */
  private maybeSnapshot(): void {
    const interval = this.o.snapshotInterval ?? 10_000;
    const snapIndex = this.storage.snapshotMetadata().index;
    if (this.applied - snapIndex < interval) return;
    this.takeSnapshot();
    this.compact();
  }

  /** Snapshots the state machine at the applied index now (admin API "raft/snapshot"). */
  takeSnapshot(): number {
    const last = this.storage.snapshotMetadata();
    if (this.applied <= last.index) return last.index;
    let state: Uint8Array;
    if (this.snapshotSender) {
      this.sm.persist!(this.applied);
      state = new Uint8Array();
    } else state = this.sm.snapshot();
    this.storage.createSnapshot(this.applied, this.raft.status().confState, encodeSnapshot(this.directory, state));
    pruneKeptSnapshots(this.o.storagePath, undefined);
    return this.applied;
  }

  /** The latest snapshot: index, term and size (admin API "raft/snapshot"). */
  snapshotInfo(): { index: number; term: number; bytes: number } {
    const m = this.storage.snapshotMetadata();
    return { index: m.index, term: m.term, bytes: this.storage.snapshotBytes() };
  }

  private compact(): void {
    const keepFrom = this.applied - (this.o.snapshotThreshold ?? 8192);
    if (keepFrom > this.storage.firstIndex()) this.storage.compact(keepFrom);
  }

  private applyDirectory(cc: ConfChange): void {
    if (cc.type === 'removeNode') {
      this.transport.removePeer(cc.nodeId);
      this.directory.delete(cc.nodeId);
    } else if (cc.context) {
      const m = JSON.parse(cc.context) as Member;
      this.directory.set(cc.nodeId, m);
      this.transport.setPeer(cc.nodeId, m.addr);
    }
  }

  private restore(data: Uint8Array, index: number): void {
    restoreState(this.sm, this.restoreDirectory(data), index);
  }

  /** Takes the member directory from snapshot data; returns the state machine's bytes. */
  private restoreDirectory(data: Uint8Array): Uint8Array {
    const { directory, state } = decodeSnapshot(data);
    this.directory.clear();
    for (const [id, m] of directory) {
      this.directory.set(id, m);
      if (id !== this.id) this.transport.setPeer(id, m.addr);
    }
    return state;
  }

  /** Proposes a membership change (one at a time, thesis §4.1); resolves once applied here. */
  changeMembership(cc: ConfChange): Promise<unknown> {
    return this.membership.change(cc);
  }

  /** Adds a node as a learner; the leader promotes it to voter once it has caught up. */
  addNode(id: NodeId, member: Member): Promise<unknown> {
    return this.membership.change({ type: 'addLearner', nodeId: id, context: JSON.stringify(member) });
  }

  removeNode(id: NodeId): Promise<unknown> {
    return this.membership.change({ type: 'removeNode', nodeId: id });
  }

  /** See Membership.transferLeadership. */
  transferLeadership(to: NodeId, timeoutMs = 4 * this.o.electionTimeoutMs): Promise<NodeId> {
    return this.membership.transferLeadership(timeoutMs, to);
  }

  private fatal(err: Error): void {
    void this.stop();
    if (this.o.onFatal) this.o.onFatal(err);
    else throw err;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    const gone = new ClusterUnavailableError('node stopped', 'unknown', 0);
    this.batcher.stop(() => new ClusterUnavailableError('node stopped', 'notLeader', 0));
    this.proposals.rejectAll(gone);
    this.reads.rejectAll(gone);
    this.appliedWaiters.cancel();
    await this.transport.close();
    this.storage.close();
  }
}
