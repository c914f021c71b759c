// A small deterministic network of RaftNodes for the paper tests: in-memory storage, a
// message queue the test drains explicitly, cuts between nodes, crash and restart. Each
// node runs the Ready loop exactly as API.md prescribes (persist, then send, then apply).
import { decodeConfChange } from '../../../lib/cluster/raft/codec.ts';
import { MemoryStorage } from '../../../lib/cluster/raft/memory-storage.ts';
import { RaftNode } from '../../../lib/cluster/raft/raft-node.ts';
import type {
  Entry,
  Message,
  NodeId,
  RaftConfig,
  ReadState,
  WritableRaftStorage,
} from '../../../lib/cluster/raft/types.ts';

/** mulberry32: a tiny seeded PRNG in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PresetLog {
  /** Terms of entries 1..n (data: `t<term>i<index>`). */
  terms: number[];
  term: number;
  vote?: NodeId;
  commit?: number;
}

export interface NetOptions extends Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>> {
  seed?: number;
  /** Start these nodes with a given log and hard state. */
  logs?: Record<number, PresetLog>;
  /** Storage for the initial nodes (default MemoryStorage). */
  storageFor?: (id: NodeId, voters: NodeId[], learners: NodeId[]) => WritableRaftStorage;
}

/** A storage holding a given log and hard state. */
export function presetStorage(voters: NodeId[], learners: NodeId[], p: PresetLog): MemoryStorage {
  const s = new MemoryStorage({ voters, learners });
  s.append(
    p.terms.map((term, i) => ({ term, index: i + 1, type: 'normal' as const, data: bytes(`t${term}i${i + 1}`) })),
  );
  s.setHardState({ term: p.term, vote: p.vote ?? 0, commit: p.commit ?? 0 });
  return s;
}

export interface Member {
  node: RaftNode;
  storage: WritableRaftStorage;
  /** Applied normal entries with data, in order (the state machine). */
  applied: Entry[];
  readStates: ReadState[];
}

const te = new TextEncoder();
const td = new TextDecoder();
export const bytes = (s: string): Uint8Array => te.encode(s);
export const text = (b: Uint8Array): string => td.decode(b);

export class RaftNetwork {
  readonly members = new Map<NodeId, Member>();
  queue: Message[] = [];
  readonly cut = new Set<string>();
  /** Messages for which this returns false are dropped. */
  filter: (m: Message) => boolean = () => true;
  readonly opts: NetOptions;
  private readonly random: () => number;
  delivered = 0;

  constructor(ids: NodeId[], opts: NetOptions = {}) {
    this.opts = opts;
    this.random = seeded(opts.seed ?? 1);
    const voters = opts.voters ?? ids;
    const learners = opts.learners ?? [];
    for (const id of ids) {
      const preset = opts.logs?.[id];
      const storage = preset
        ? presetStorage(voters, learners, preset)
        : opts.storageFor
          ? opts.storageFor(id, voters, learners)
          : new MemoryStorage({ voters, learners });
      this.add(id, storage);
    }
  }

  add(id: NodeId, storage: WritableRaftStorage = new MemoryStorage(), applied = 0): Member {
    const node = new RaftNode({
      electionTick: 10,
      heartbeatTick: 1,
      ...this.opts,
      id,
      storage,
      random: this.random,
      applied: applied || this.opts.applied,
    });
    const prev = this.members.get(id);
    const m: Member = { node, storage, applied: prev?.applied.slice(0, 0) ?? [], readStates: [] };
    this.members.set(id, m);
    return m;
  }

  get(id: NodeId): RaftNode {
    return this.members.get(id)!.node;
  }

  /** Runs one node's Ready loop until it has nothing more to say. */
  process(id: NodeId): void {
    const m = this.members.get(id)!;
    for (let i = 0; i < 100 && m.node.hasReady(); i++) {
      const rd = m.node.ready();
      m.storage.save(rd);
      for (const msg of rd.messages) this.queue.push(msg);
      if (rd.snapshot) m.applied = [];
      for (const e of rd.committedEntries) {
        if (e.type === 'confChange') m.storage.setConfState(m.node.applyConfChange(decodeConfChange(e.data)));
        else if (e.data.length > 0) m.applied.push(e);
      }
      m.readStates.push(...rd.readStates);
      m.node.advance();
    }
  }

  processAll(): void {
    for (const id of this.members.keys()) this.process(id);
  }

  isolate(id: NodeId): void {
    for (const other of this.members.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}→${other}`);
      this.cut.add(`${other}→${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
    this.filter = () => true;
  }

  /** Delivers every queued message once (responses queue up for the next round). */
  deliverRound(processAfterEach = true): number {
    const q = this.queue;
    this.queue = [];
    let n = 0;
    for (const msg of q) {
      const to = this.members.get(msg.to);
      if (!to || this.cut.has(`${msg.from}→${msg.to}`) || !this.filter(msg)) continue;
      to.node.step(msg);
      n++;
      if (processAfterEach) this.process(msg.to);
    }
    this.delivered += n;
    return n;
  }

  /** Processes and delivers until the network is quiet (bounded). */
  stabilize(maxRounds = 1000): void {
    this.processAll();
    for (let i = 0; i < maxRounds; i++) {
      if (this.queue.length === 0) return;
      this.deliverRound();
      this.processAll();
    }
    throw new Error('network did not stabilize');
  }

  /** Like stabilize, but stops quietly after `rounds` even if messages keep flowing. */
  run(rounds: number): void {
    this.processAll();
    for (let i = 0; i < rounds && this.queue.length > 0; i++) {
      this.deliverRound();
      this.processAll();
    }
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.get(id).tick();
      this.process(id);
    }
  }

  /** Ticks every node n times, delivering messages after each tick. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const id of this.members.keys()) this.tick(id);
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.get(id).campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): boolean {
    const ok = this.get(id).propose(bytes(data));
    this.stabilize();
    return ok;
  }

  leaders(): NodeId[] {
    return [...this.members].filter(([, m]) => m.node.status().role === 'leader').map(([id]) => id);
  }

  appliedText(id: NodeId): string[] {
    return this.members.get(id)!.applied.map((e) => text(e.data));
  }

  /** Loses the node's volatile state; it comes back from what it persisted (`storage`: the
   *  same disk reopened, by default the same object). */
  restart(id: NodeId, storage?: WritableRaftStorage): Member {
    const old = this.members.get(id)!;
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    const disk = storage ?? old.storage;
    return this.add(id, disk, disk.snapshot().metadata.index);
  }
}
