/**
 * A simulated cluster of real RaftNode cores over an in-memory network, shared by the
 * randomized simulation and the interaction scripts. It models exactly what the Ready contract
 * promises (API.md "The Ready loop"): a node's MemoryStorage is its disk and survives a crash;
 * everything else (the core, unsent messages, the state machine) is lost. Each Ready is
 * persisted, then its messages are put on the network, then committed entries are applied.
 * The SafetyChecker watches every persisted entry, visible commit index, applied entry and
 * leader.
 */
import {
  MemoryStorage,
  RaftNode,
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Ready,
  type TestBugs,
} from '../../../lib/cluster/raft/index.ts';
import { fmtMessage } from './format.ts';
import { SafetyChecker, type LogView, type SeenEntry } from './invariants.ts';
import type { Prng } from './prng.ts';

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

export interface ClusterOptions {
  voters: NodeId[];
  prng: Prng;
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTick?: number;
  heartbeatTick?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  testBugs?: TestBugs;
  /** Called for every event worth printing (scripts, SEED replays). */
  trace?: (line: string) => void;
  /** False switches off the Ready-contract checks (see SafetyChecker.contractChecks). */
  contractChecks?: boolean;
  /** Trace every delivered or lost message too (SEED replays). */
  traceMessages?: boolean;
  /** Sees every Ready before it is handled (the interaction scripts print it). */
  onReady?: (id: NodeId, rd: Ready) => void;
}

export interface SimNode {
  id: NodeId;
  /** The node's disk: survives crashes. */
  storage: MemoryStorage;
  /** The running core; undefined while crashed or retired. */
  raft: RaftNode | undefined;
  /** State machine: key of the entry applied at index i is sm[i - 1] (volatile). */
  sm: string[];
  /** Membership as the state machine last applied it (volatile, restored from the snapshot). */
  conf: ConfState;
  /** The commit index this node has made visible (persisted in its hard state). */
  visibleCommit: number;
  retired: boolean;
  /** The term in which this node last told the application it is leader; 0 when it is not. */
  leaderTerm: number;
  /** Proposals made on this node, by key, not yet seen applied here. */
  proposed: Set<string>;
}

export function entryKey(e: Entry): string {
  return (e.type === 'confChange' ? 'c:' : 'n:') + utf8Decode.decode(e.data);
}

function seen(e: Entry): SeenEntry {
  return { index: e.index, term: e.term, key: entryKey(e) };
}

export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  /** Messages in flight, oldest first. */
  network: Message[] = [];
  /** Directed links that drop everything: `from>to`. */
  readonly blocked = new Set<string>();
  readonly checker: SafetyChecker;
  /** Keys of proposals the proposing node saw applied (acknowledged to the client). */
  readonly acked = new Set<string>();
  /** Highest log index of an acknowledged proposal. */
  ackedMax = 0;
  /** Linearizable reads in flight: ctx → the highest index acknowledged when the read began. */
  private readonly reads = new Map<string, number>();
  /** Membership after the highest-index conf change any node applied. */
  config: { index: number; conf: ConfState };
  readonly counts = {
    elections: 0,
    commits: 0,
    applied: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    snapshotsSent: 0,
    reads: 0,
  };
  private readonly opts: ClusterOptions;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.checker = new SafetyChecker(opts.contractChecks ?? true);
    this.config = { index: 0, conf: { voters: [...opts.voters], learners: [] } };
    for (const id of opts.voters) this.addNode(id, opts.voters);
  }

  get prng(): Prng {
    return this.opts.prng;
  }

  /** Creates a node with an empty disk; `voters` is the brand-new cluster's membership ([] for a joiner). */
  addNode(id: NodeId, voters: NodeId[]): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} already exists`);
    const storage = new MemoryStorage({ voters });
    const n: SimNode = {
      id,
      storage,
      raft: undefined,
      sm: [],
      conf: { voters: [...voters], learners: [] },
      visibleCommit: 0,
      retired: false,
      leaderTerm: 0,
      proposed: new Set(),
    };
    this.nodes.set(id, n);
    this.start(n);
    return n;
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  up(id: NodeId): RaftNode | undefined {
    return this.nodes.get(id)?.raft;
  }

  upIds(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.raft).map((n) => n.id);
  }

  /** Leaders as the nodes themselves believe (several may coexist in different terms). */
  leaders(): Array<{ id: NodeId; term: number; log: LogView }> {
    const out: Array<{ id: NodeId; term: number; log: LogView }> = [];
    for (const n of this.nodes.values())
      if (n.raft && n.leaderTerm > 0) out.push({ id: n.id, term: n.leaderTerm, log: logOf(n.raft) });
    return out;
  }

  /** The running node that most recently became leader (highest term), if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) if (n.raft && n.leaderTerm > (best?.leaderTerm ?? 0)) best = n;
    return best;
  }

  private start(n: SimNode): void {
    const snap = n.storage.snapshot();
    n.sm = snap.metadata.index > 0 ? decodeSm(snap.data) : [];
    n.conf = snap.metadata.index > 0 ? copyConf(snap.metadata.confState) : copyConf(n.storage.initialState().confState);
    n.visibleCommit = n.storage.initialState().hardState.commit;
    n.proposed.clear();
    const o = this.opts;
    const jitter = this.prng.fork();
    n.leaderTerm = 0;
    n.raft = new RaftNode({
      id: n.id,
      voters: n.conf.voters,
      electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1,
      storage: n.storage,
      applied: snap.metadata.index,
      preVote: o.preVote ?? false,
      checkQuorum: o.checkQuorum ?? false,
      maxSizePerMsg: o.maxSizePerMsg ?? 4096,
      maxInflightMsgs: o.maxInflightMsgs ?? 256,
      random: () => jitter.float(),
      testBugs: o.testBugs,
    });
  }

  /** Discards the core, its unsent output and the state machine; the disk stays. */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.raft) return;
    n.raft = undefined;
    n.sm = [];
    n.leaderTerm = 0;
    n.proposed.clear();
    this.trace(`${id} crashed`);
  }

  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.raft || n.retired) return;
    this.start(n);
    this.trace(
      `${id} restarted (term ${n.storage.hardState.term}, vote ${n.storage.hardState.vote}, commit ${n.storage.hardState.commit}, last ${n.storage.lastIndex()})`,
    );
  }

  /** Stops a node for good (removed from the cluster). */
  retire(id: NodeId): void {
    const n = this.node(id);
    n.raft = undefined;
    n.leaderTerm = 0;
    n.retired = true;
    this.trace(`${id} retired`);
  }

  tick(id: NodeId): void {
    this.up(id)?.tick();
  }

  propose(id: NodeId, data: string): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    const ok = n.raft.propose(utf8.encode(data));
    if (ok) n.proposed.add(`n:${data}`);
    return ok;
  }

  /** Starts a linearizable read (thesis §6.4) on node `id`. */
  readIndex(id: NodeId, ctx: string): void {
    const r = this.up(id);
    if (!r) return;
    this.reads.set(ctx, this.ackedMax);
    r.readIndex(ctx);
  }

  proposeConfChange(id: NodeId, cc: ConfChange): boolean {
    const r = this.up(id);
    if (!r) return false;
    const ok = r.proposeConfChange(cc);
    // A joiner starts with an empty disk and no membership; the leader's log brings it in.
    if (ok && (cc.type === 'addLearner' || cc.type === 'addNode') && !this.nodes.has(cc.nodeId))
      this.addNode(cc.nodeId, []);
    return ok;
  }

  /**
   * Handles one Ready of node `id` per the contract: persist, send, apply, advance. With
   * `crashAfterPersist` the node crashes after persisting and before sending (legal: the
   * messages are simply lost). Returns false when there was nothing to do.
   */
  processReady(id: NodeId, crashAfterPersist = false): boolean {
    const n = this.node(id);
    const r = n.raft;
    if (!r?.hasReady()) return false;
    const rd = r.ready();
    this.opts.onReady?.(id, rd);
    this.persist(n, r, rd);
    if (crashAfterPersist) {
      this.crash(id);
      return true;
    }
    for (const m of rd.messages) this.send(m);
    this.apply(n, r, rd);
    r.advance();
    return true;
  }

  /** Processes Readies of every running node until none has one (bounded). */
  drainReadies(limit = 1000): void {
    for (let i = 0; i < limit; i++) {
      let any = false;
      for (const n of this.nodes.values()) if (n.raft && this.processReady(n.id)) any = true;
      if (!any) return;
    }
    throw new Error(`Readies did not drain after ${limit} rounds`);
  }

  private persist(n: SimNode, r: RaftNode, rd: Ready): void {
    const c = this.checker;
    if (rd.softState) {
      if (rd.softState.role === 'leader') {
        const term = r.status().term;
        c.leaderSeen(n.id, term, logOf(r));
        n.leaderTerm = term;
        this.counts.elections++;
        this.trace(`${n.id} became leader at term ${term}`);
      } else n.leaderTerm = 0;
    }
    if (rd.snapshot) c.snapshotSeen(n.id, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    const lost = this.checkDiscards(n, rd);
    n.storage.save(rd);
    for (const i of lost)
      this.checkCommittedSafe(i, ` (after node ${n.id}, which did not know it committed, dropped it)`);
    if (rd.entries.length > 0) {
      const first = rd.entries[0] as Entry;
      c.persisted(n.id, rd.entries.map(seen), storageTerm(n.storage, first.index - 1));
    }
    const hs = rd.hardState;
    if (hs && hs.commit > n.visibleCommit) {
      const fresh = c.commitSeen(n.id, hs.term, n.visibleCommit, hs.commit, logOf(r), this.leaders());
      for (const i of fresh) {
        this.checkCommittedSafe(i, ` (node ${n.id} committed it with voters ${r.status().confState.voters.join(',')})`);
      }
      this.counts.commits += fresh.length;
      n.visibleCommit = hs.commit;
    }
  }

  /** Entries a Ready is about to replace on disk must not be committed ones. */
  private checkDiscards(n: SimNode, rd: Ready): number[] {
    const s = n.storage;
    const last = s.lastIndex();
    let from = Infinity;
    let by = '';
    if (rd.snapshot) {
      const si = rd.snapshot.metadata.index;
      // MemoryStorage.applySnapshot drops the whole log; entries up to the snapshot live on in
      // it (snapshotSeen checks its term), the ones after it are lost.
      from = Math.max(si + 1, s.firstIndex());
      by = `installing snapshot ${si}`;
    }
    const first = rd.entries[0];
    if (first && first.index < from) {
      // Only positions whose term changes are replaced; equal (index, term) is the same entry.
      for (const e of rd.entries) {
        if (e.index > last) break;
        if (storageTerm(s, e.index) !== e.term) {
          from = e.index;
          by = `truncating from ${e.index}`;
          break;
        }
      }
    }
    const lost: number[] = [];
    for (let i = Math.max(from, s.firstIndex()); i <= last; i++) {
      if (this.checker.discarding(n.id, i, storageTerm(s, i) ?? -1, n.visibleCommit, by)) lost.push(i);
    }
    return lost;
  }

  /** Committed entry `i` is durable on a quorum and no voter lacking it could be elected. */
  private checkCommittedSafe(i: number, context: string): void {
    const c = this.checker;
    const has = (v: NodeId): boolean => holds(this.nodes.get(v)?.storage, i, c.committed.get(i)?.term ?? -1);
    const voters = this.config.conf.voters;
    c.durableOnQuorum(i, voters, has, context);
    c.notOutvotable(i, voters, has, (v) => lastOf(this.nodes.get(v)?.storage));
  }

  private apply(n: SimNode, r: RaftNode, rd: Ready): void {
    const c = this.checker;
    if (rd.snapshot) {
      n.sm = decodeSm(rd.snapshot.data);
      n.conf = copyConf(rd.snapshot.metadata.confState);
      c.appliedEntries(
        n.id,
        n.sm.map((key, i) => ({ index: i + 1, term: 0, key })),
      );
      this.trace(`${n.id} installed snapshot at ${rd.snapshot.metadata.index}`);
    }
    for (const e of rd.committedEntries) {
      const key = entryKey(e);
      if (e.index !== n.sm.length + 1)
        throw new Error(`node ${n.id} asked to apply index ${e.index} after ${n.sm.length}`);
      n.sm.push(key);
      if (e.type === 'confChange') {
        const cs = r.applyConfChange(decodeConfChange(e.data));
        n.conf = copyConf(cs);
        n.storage.setConfState(cs);
        if (e.index > this.config.index) this.config = { index: e.index, conf: copyConf(cs) };
        // A snapshot must name its recipient as a member or the recipient refuses it (etcd
        // raft's restore does the same), so once a node has snapshots it takes a fresh one
        // after each membership change: a joiner is then never offered a pre-join snapshot.
        // (etcd's server goes further and sends a snapshot of the applied state on demand.)
        const snap = n.storage.snapshot().metadata.index;
        if (snap > 0 && snap < e.index && e.index <= n.storage.lastIndex())
          n.storage.createSnapshot(e.index, cs, encodeSm(n.sm));
      }
      if (n.proposed.delete(key)) {
        this.acked.add(key);
        if (e.index > this.ackedMax) this.ackedMax = e.index;
      }
    }
    for (const rs of rd.readStates) {
      const before = this.reads.get(rs.requestCtx);
      if (before === undefined) continue;
      this.reads.delete(rs.requestCtx);
      c.readIndexSafe(n.id, rs.requestCtx, rs.index, before);
      this.counts.reads++;
    }
    if (rd.committedEntries.length > 0) {
      c.appliedEntries(n.id, rd.committedEntries.map(seen));
      this.counts.applied += rd.committedEntries.length;
    }
    c.appliedWithinCommit(n.id, n.sm.length, n.visibleCommit);
  }

  /** Takes a snapshot at the applied index and drops the log before `index` (default: all of it). */
  compact(id: NodeId, keep = 0): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    const at = Math.min(n.sm.length, n.storage.lastIndex());
    if (at <= n.storage.snapshot().metadata.index) return false;
    n.storage.createSnapshot(at, n.conf, encodeSm(n.sm.slice(0, at)));
    const to = Math.max(n.storage.firstIndex(), at - keep);
    n.storage.compact(to);
    this.trace(`${id} compacted log to ${to} (snapshot at ${at})`);
    return true;
  }

  send(m: Message): void {
    this.counts.messagesSent++;
    if (m.type === 'MsgSnap') this.counts.snapshotsSent++;
    this.network.push(m);
  }

  /** Delivers network[i] (leaving a copy in flight with `keepCopy`); undefined when the link or node was down. */
  deliverAt(i: number, keepCopy = false): Message | undefined {
    const m = this.network[i] as Message;
    if (!keepCopy) this.network.splice(i, 1);
    return this.deliver(m) ? m : undefined;
  }

  /** Hands `m` to its destination unless the link is blocked or the node is down. */
  deliver(m: Message): boolean {
    const to = this.nodes.get(m.to);
    const ok = !this.blocked.has(`${m.from}>${m.to}`) && to?.raft !== undefined;
    if (m.type === 'MsgSnap') this.up(m.from)?.reportSnapshot(m.to, ok ? 'finish' : 'failure');
    if (this.opts.traceMessages) this.trace(`  ${ok ? 'deliver' : 'lost'} ${fmtMessage(m)}`);
    if (!ok) return false;
    this.counts.messagesDelivered++;
    (to as SimNode).raft?.step(m);
    return true;
  }

  /** Drops network[i] (telling the sender of a lost snapshot, as a transport would). */
  dropAt(i: number): Message {
    const [m] = this.network.splice(i, 1) as [Message];
    if (m.type === 'MsgSnap') this.up(m.from)?.reportSnapshot(m.to, 'failure');
    return m;
  }

  partition(groups: NodeId[][]): void {
    this.blocked.clear();
    const all = [...this.nodes.keys()];
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      for (const id of g) groupOf.set(id, i);
    });
    for (const a of all)
      for (const b of all) if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.blocked.add(`${a}>${b}`);
  }

  blockOneWay(from: NodeId[], to: NodeId[]): void {
    for (const a of from) for (const b of to) if (a !== b) this.blocked.add(`${a}>${b}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Current members (voters and learners) by the latest applied membership, that are not retired. */
  members(): NodeId[] {
    const c = this.config.conf;
    return [...c.voters, ...c.learners].filter((id) => this.nodes.get(id) && !this.nodes.get(id)?.retired);
  }

  private trace(line: string): void {
    this.opts.trace?.(line);
  }
}

export function logOf(r: RaftNode): LogView {
  return {
    entryAt(i: number) {
      if (i < r.firstIndex()) return 'compacted';
      if (i > r.lastIndex()) return undefined;
      const e = r.entries(i, i + 1)[0];
      return e ? seen(e) : undefined;
    },
  };
}

function storageTerm(s: MemoryStorage, i: number): number | undefined {
  try {
    return s.term(i);
  } catch {
    return undefined;
  }
}

/** Whether a disk holds entry `index` of `term` (or a snapshot covering it). */
function holds(s: MemoryStorage | undefined, index: number, term: number): boolean {
  if (!s) return false;
  if (index <= s.snapshot().metadata.index) return true;
  return storageTerm(s, index) === term;
}

/** The last (index, term) of a disk, for the up-to-date comparison of §5.4.1. */
function lastOf(s: MemoryStorage | undefined): { term: number; index: number } {
  if (!s) return { term: 0, index: 0 };
  const index = s.lastIndex();
  return { index, term: storageTerm(s, index) ?? 0 };
}

function copyConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

function encodeSm(keys: string[]): Uint8Array {
  return utf8.encode(JSON.stringify(keys));
}

function decodeSm(data: Uint8Array): string[] {
  return data.byteLength === 0 ? [] : (JSON.parse(utf8Decode.decode(data)) as string[]);
}
