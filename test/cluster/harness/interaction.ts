/**
 * The interpreter behind test/cluster/testdata/*.txt (after etcd-io/raft's rafttest
 * InteractionEnv). Every input to a node (tick, campaign, propose, a delivered message) is
 * followed by handling that node's Ready, printed in contract order: what is persisted
 * (role, hard state, entries, snapshot), then what is sent, then what is applied.
 *
 * Notation: an entry is `index/tterm:data` (`-` for a leader's empty entry, `cc{...}` for a
 * membership change); `last=5/t2` and `prev=5/t2` name a log position by index and term.
 */
import type { Message, NodeId, Ready } from '../../../lib/cluster/raft/index.ts';
import { fmtEntry, fmtMessage } from './format.ts';
import { InvariantViolation } from './invariants.ts';
import { Prng } from './prng.ts';
import { idList, intArg, type ScriptBlock } from './script-file.ts';
import { SimCluster } from './sim-cluster.ts';

function fmtReady(id: NodeId, rd: Ready): string[] {
  const out = [`${id} ready:`];
  if (rd.softState) out.push(`  role ${rd.softState.role} lead=${rd.softState.lead}`);
  // In the order MemoryStorage.save writes them: snapshot, entries, hard state.
  if (rd.snapshot) out.push(`  persist snapshot ${rd.snapshot.metadata.index}/t${rd.snapshot.metadata.term}`);
  if (rd.entries.length > 0) out.push(`  persist entries ${rd.entries.map(fmtEntry).join(' ')}`);
  if (rd.hardState)
    out.push(`  persist hardState term=${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
  for (const m of rd.messages) out.push(`  send ${fmtMessage(m)}`);
  if (rd.committedEntries.length > 0) out.push(`  apply ${rd.committedEntries.map(fmtEntry).join(' ')}`);
  for (const r of rd.readStates) out.push(`  read index=${r.index} ctx=${r.requestCtx}`);
  return out.length > 1 ? out : [];
}

export class Interaction {
  private cluster: SimCluster | undefined;
  private out: string[] = [];

  /** Runs one block and returns its output (never empty, never with a blank line). */
  run(b: ScriptBlock): string {
    this.out = [];
    try {
      this.exec(b);
    } catch (err) {
      // A safety violation is output (the planted-bug scripts expect one); anything else is a test error.
      if (!(err instanceof InvariantViolation)) throw err;
      this.print(`VIOLATION ${err.message}`);
    }
    const text = this.out.join('\n').replace(/\n\s*\n/g, '\n');
    return text === '' ? 'ok' : text;
  }

  private get c(): SimCluster {
    if (!this.cluster) throw new Error('no cluster yet: start with add-nodes');
    return this.cluster;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private ids(b: ScriptBlock): NodeId[] {
    return b.positional.length === 0 ? this.c.upIds() : b.positional.flatMap(idList);
  }

  private handle(id: NodeId): void {
    while (this.c.processReady(id));
  }

  private exec(b: ScriptBlock): void {
    switch (b.command) {
      case 'add-nodes': {
        const n = Number(b.positional[0]);
        const voters = Array.from({ length: n }, (_, i) => i + 1);
        this.cluster = new SimCluster({
          voters,
          prng: new Prng(intArg(b, 'seed', 1)),
          preVote: b.args.get('prevote') === 'true',
          checkQuorum: b.args.get('checkquorum') === 'true',
          electionTick: intArg(b, 'election', 10),
          heartbeatTick: intArg(b, 'heartbeat', 1),
          maxSizePerMsg: intArg(b, 'maxsize', 4096),
          testBugs: b.args.has('bug') ? { [b.args.get('bug') as string]: true } : undefined,
          trace: (l) => this.print(l),
          onReady: (id, rd) => {
            for (const l of fmtReady(id, rd)) this.print(l);
          },
        });
        this.status();
        return;
      }
      case 'campaign':
        for (const id of this.ids(b)) {
          this.c.up(id)?.campaign();
          this.handle(id);
        }
        return;
      case 'tick': {
        const times = intArg(b, 'n', 1);
        for (let t = 0; t < times; t++) {
          for (const id of this.ids(b)) {
            this.c.tick(id);
            this.handle(id);
          }
        }
        return;
      }
      case 'deliver-msgs':
        this.deliver(b, false);
        return;
      case 'drop':
        this.deliver(b, true);
        return;
      case 'partition':
        if (b.positional[0] === 'oneway') {
          this.c.blockOneWay(idList(b.args.get('from') ?? ''), idList(b.args.get('to') ?? ''));
        } else this.c.partition(b.positional.map(idList));
        this.print(`blocked ${[...this.c.blocked].sort().join(' ')}`);
        return;
      case 'heal':
        this.c.heal();
        this.print('all links up');
        return;
      case 'propose': {
        const id = Number(b.positional[0]);
        for (const data of b.positional.slice(1)) {
          if (!this.c.propose(id, data)) this.print(`${id} dropped proposal ${data}`);
        }
        this.handle(id);
        return;
      }
      case 'crash':
        for (const id of this.ids(b)) this.c.crash(id);
        return;
      case 'restart':
        for (const id of this.ids(b)) {
          this.c.restart(id);
          this.handle(id);
        }
        return;
      case 'stabilize':
        this.stabilize(b);
        return;
      case 'compact':
        for (const id of this.ids(b))
          if (!this.c.compact(id, intArg(b, 'keep', 0))) this.print(`${id} has nothing to compact`);
        return;
      case 'add-learner':
      case 'promote':
      case 'remove': {
        const via = intArg(b, 'via');
        const type = b.command === 'add-learner' ? 'addLearner' : b.command === 'promote' ? 'addNode' : 'removeNode';
        for (const id of b.positional.flatMap(idList)) {
          if (!this.c.proposeConfChange(via, { type, nodeId: id })) this.print(`${via} dropped ${type} ${id}`);
        }
        this.handle(via);
        return;
      }
      case 'transfer-leader': {
        const from = intArg(b, 'from');
        this.c.up(from)?.transferLeader(intArg(b, 'to'));
        this.handle(from);
        return;
      }
      case 'status':
        this.status(b.positional.length > 0 ? this.ids(b) : undefined);
        return;
      case 'log':
        for (const id of this.ids(b)) this.log(id);
        return;
      default:
        throw new Error(`line ${b.line}: unknown command "${b.command}"`);
    }
  }

  /** Delivers (or drops) the queued messages that match `from=`/`to=`/`type=` filters. */
  private deliver(b: ScriptBlock, drop: boolean): void {
    const to = b.positional.length > 0 ? new Set(b.positional.flatMap(idList)) : undefined;
    const from = b.args.has('from') ? new Set(idList(b.args.get('from') as string)) : undefined;
    const type = b.args.get('type');
    const match = (m: Message): boolean =>
      (!to || to.has(m.to)) && (!from || from.has(m.from)) && (!type || m.type === type);
    const picked = this.c.network.filter(match);
    this.c.network = this.c.network.filter((m) => !match(m));
    if (picked.length === 0) this.print('no messages');
    const touched: NodeId[] = [];
    for (const m of picked) {
      if (drop) {
        this.c.network.push(m);
        this.c.dropAt(this.c.network.length - 1);
        this.print(`dropped ${fmtMessage(m)}`);
        continue;
      }
      const ok = this.c.deliver(m);
      this.print(`${ok ? 'delivered' : 'lost'} ${fmtMessage(m)}`);
      if (ok && !touched.includes(m.to)) touched.push(m.to);
    }
    for (const id of touched) this.handle(id);
  }

  /** Handles Readies and delivers every message until nothing moves (links and crashes still apply). */
  private stabilize(b: ScriptBlock): void {
    const only = b.positional.length > 0 ? new Set(b.positional.flatMap(idList)) : undefined;
    for (let round = 0; round < 200; round++) {
      let moved = false;
      for (const n of this.c.nodes.values()) {
        if (only && !only.has(n.id)) continue;
        if (n.raft && this.c.processReady(n.id)) moved = true;
      }
      const batch = this.c.network.filter((m) => !only || (only.has(m.to) && only.has(m.from)));
      this.c.network = this.c.network.filter((m) => !batch.includes(m));
      for (const m of batch) {
        moved = true;
        if (!this.c.deliver(m)) this.print(`lost ${fmtMessage(m)}`);
      }
      if (!moved) return;
    }
    throw new Error('stabilize did not settle in 200 rounds');
  }

  private status(ids?: NodeId[]): void {
    for (const n of this.c.nodes.values()) {
      if (ids && !ids.includes(n.id)) continue;
      const s = n.storage;
      const log = `log=${s.firstIndex()}..${s.lastIndex()}`;
      if (!n.raft) {
        const hs = s.hardState;
        this.print(
          `${n.id}: ${n.retired ? 'retired' : 'down'} (disk: term=${hs.term} vote=${hs.vote} commit=${hs.commit} ${log})`,
        );
        continue;
      }
      const st = n.raft.status();
      const conf = `voters=${st.confState.voters.join(',') || '-'} learners=${st.confState.learners.join(',') || '-'}`;
      this.print(
        `${n.id}: ${st.role} term=${st.term} vote=${st.vote} lead=${st.lead} commit=${st.commit} applied=${n.sm.length} log=${n.raft.firstIndex()}..${n.raft.lastIndex()} ${conf}`,
      );
    }
  }

  private log(id: NodeId): void {
    const r = this.c.up(id);
    if (!r) {
      this.print(`${id}: down`);
      return;
    }
    const first = r.firstIndex();
    const ents = first <= r.lastIndex() ? r.entries(first, r.lastIndex() + 1) : [];
    this.print(
      `${id}: ${first > 1 ? `(snapshot ${first - 1}/t${r.termAt(first - 1)}) ` : ''}${ents.map(fmtEntry).join(' ') || 'empty'}`,
    );
  }
}
