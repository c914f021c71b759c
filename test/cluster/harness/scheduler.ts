/**
 * One randomized, deterministic schedule: a seed picks the cluster (3 or 5 voters, PreVote and
 * CheckQuorum on or off) and then every step — message delivery in any order, drops,
 * duplicates, ticks, proposals, partitions, crashes and restarts, log compaction, membership
 * changes and leadership transfers. The SafetyChecker runs inside every Ready; after the
 * faulty phase the network heals, every node restarts, and the cluster must elect a leader
 * and apply every acknowledged proposal everywhere within a bounded number of ticks.
 */
import type { NodeId, TestBugs } from '../../../lib/cluster/raft/index.ts';
import { InvariantViolation } from './invariants.ts';
import { Prng } from './prng.ts';
import { SimCluster } from './sim-cluster.ts';

export const FAULT_KINDS = [
  'drop',
  'duplicate',
  'partition',
  'oneWay',
  'isolateLeader',
  'heal',
  'crash',
  'crashMidReady',
  'restart',
  'compact',
  'addLearner',
  'promote',
  'remove',
  'transferLeader',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ScheduleOptions {
  steps: number;
  testBugs?: TestBugs;
  contractChecks?: boolean;
  trace?: (line: string) => void;
}

export interface ScheduleResult {
  seed: number;
  /** The planted bug switched on, if any (for the replay command). */
  bug?: string;
  voters: number;
  preVote: boolean;
  checkQuorum: boolean;
  steps: number;
  faults: Record<FaultKind, number>;
  elections: number;
  commits: number;
  checks: number;
  proposals: number;
  acked: number;
  /** Ticks the healed cluster needed to elect a leader and apply every acknowledged proposal. */
  recoveryTicks: number;
  snapshotsSent: number;
  messagesDelivered: number;
  reads: number;
  violation?: { step: number; message: string; invariant: string };
}

const ELECTION_TICK = 4;
/** Liveness bound after faults stop: this many election timeouts. */
export const RECOVERY_TICKS = 30 * ELECTION_TICK;
const MAX_IN_FLIGHT = 200;
const BURST = 6;

/** The per-schedule seed for schedule `i` of a run with base seed `base`. */
export function scheduleSeed(base: number, i: number): number {
  let z = (base ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

export function runSchedule(seed: number, opts: ScheduleOptions): ScheduleResult {
  const prng = new Prng(seed);
  const voterCount = prng.chance(0.5) ? 3 : 5;
  const preVote = prng.chance(0.5);
  const checkQuorum = prng.chance(0.5);
  // Small messages (1 to ~8 entries) make a follower catch up over several MsgApps, so a
  // quorum can hold old entries without the new leader's own (the Figure 8 situation).
  const maxSizePerMsg = prng.chance(0.5) ? 1 : 20 + prng.int(150);
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const result: ScheduleResult = {
    seed,
    bug: Object.keys(opts.testBugs ?? {}).join(',') || undefined,
    voters: voterCount,
    preVote,
    checkQuorum,
    steps: 0,
    faults,
    elections: 0,
    commits: 0,
    checks: 0,
    proposals: 0,
    acked: 0,
    recoveryTicks: 0,
    snapshotsSent: 0,
    messagesDelivered: 0,
    reads: 0,
  };
  const trace = opts.trace;
  trace?.(`seed ${seed}: ${voterCount} voters, preVote=${preVote}, checkQuorum=${checkQuorum}`);
  const c = new SimCluster({
    voters,
    prng,
    preVote,
    checkQuorum,
    electionTick: ELECTION_TICK,
    heartbeatTick: 1,
    maxSizePerMsg,
    maxInflightMsgs: 1 + prng.int(4),
    testBugs: opts.testBugs,
    contractChecks: opts.contractChecks,
    trace,
    traceMessages: trace !== undefined,
  });
  let nextProposal = 0;
  let nextRead = 0;
  let nextId = voterCount + 1;
  const pendingRemoval = new Set<NodeId>();
  let step = 0;

  /** After an input to a node, its Ready is usually handled at once, sometimes later. */
  const maybeReady = (id: NodeId): void => {
    if (prng.chance(0.85)) c.processReady(id);
  };
  const fault = (k: FaultKind): void => {
    faults[k]++;
  };
  const randomUp = (): NodeId | undefined => {
    const ids = c.upIds();
    return ids.length > 0 ? prng.pick(ids) : undefined;
  };

  // Weights per step. Faults are rare enough that elections (4–8 ticks plus a round of
  // votes) usually finish between them, frequent enough for several per schedule.
  const actions = {
    deliver: 45,
    tickAll: 12,
    tick: 3,
    ready: 5,
    propose: 12,
    drop: 1.5,
    duplicate: 1,
    partition: 0.5,
    oneWay: 0.3,
    isolateLeader: 0.6,
    heal: 1.5,
    crash: 0.8,
    crashMidReady: 0.3,
    restart: 2,
    compact: 0.5,
    membership: 0.6,
    transferLeader: 0.3,
    read: 3,
  };

  const doStep = (): void => {
    const a = prng.weighted(actions);
    trace?.(`step ${step}: ${a}`);
    switch (a) {
      case 'deliver': {
        // A burst of deliveries, mostly near the head of the queue (a network delays and
        // reorders, it does not stall), sometimes from anywhere in it.
        const burst = 1 + prng.int(BURST);
        for (let k = 0; k < burst && c.network.length > 0; k++) {
          const i = prng.chance(0.9) ? prng.int(Math.min(c.network.length, 6)) : prng.int(c.network.length);
          const m = c.deliverAt(i);
          if (m) maybeReady(m.to);
        }
        break;
      }
      case 'drop':
        if (c.network.length === 0) break;
        {
          fault('drop');
          const m = c.dropAt(prng.int(c.network.length));
          // Sometimes the transport notices (etcd's ReportUnreachable): the leader re-probes.
          if (prng.chance(0.3)) c.up(m.from)?.reportUnreachable(m.to);
        }
        break;
      case 'duplicate': {
        if (c.network.length === 0) break;
        fault('duplicate');
        const m = c.deliverAt(prng.int(c.network.length), true);
        if (m) maybeReady(m.to);
        break;
      }
      case 'tickAll':
        for (const id of c.upIds()) {
          c.tick(id);
          maybeReady(id);
        }
        break;
      case 'tick': {
        const id = randomUp();
        if (id === undefined) break;
        trace?.(`  tick ${id}`);
        c.tick(id);
        maybeReady(id);
        break;
      }
      case 'ready': {
        const ready = c.upIds().filter((id) => c.up(id)?.hasReady());
        if (ready.length > 0) c.processReady(prng.pick(ready));
        break;
      }
      case 'propose': {
        const l = c.leader();
        const id = l && prng.chance(0.7) ? l.id : randomUp();
        if (id === undefined) break;
        const data = `p${nextProposal++}`;
        const ok = c.propose(id, data);
        if (ok) result.proposals++;
        trace?.(`  propose ${data} on ${id}: ${ok ? 'accepted' : 'dropped'}`);
        maybeReady(id);
        break;
      }
      case 'partition': {
        const ids = [...c.nodes.keys()].filter((id) => !c.node(id).retired);
        const shuffled = shuffle(prng, ids);
        const cut = 1 + prng.int(ids.length - 1);
        c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        fault('partition');
        trace?.(`  partition ${shuffled.slice(0, cut).join(',')} | ${shuffled.slice(cut).join(',')}`);
        break;
      }
      case 'oneWay': {
        const ids = [...c.nodes.keys()].filter((id) => !c.node(id).retired);
        const from = prng.pick(ids);
        const to = shuffle(
          prng,
          ids.filter((x) => x !== from),
        ).slice(0, 1 + prng.int(ids.length - 1));
        c.blockOneWay([from], to);
        fault('oneWay');
        trace?.(`  block ${from} -> ${to.join(',')}`);
        break;
      }
      case 'isolateLeader': {
        // The leader keeps a minority with it (for 5 voters, sometimes one follower), so the
        // entries it still accepts reach some logs but cannot commit: divergent logs across
        // terms, the raw material of the Figure 8 anomaly.
        const l = c.leader();
        if (!l) break;
        const others = shuffle(
          prng,
          [...c.nodes.keys()].filter((id) => id !== l.id),
        );
        const keep = prng.int(Math.max(1, Math.floor(c.config.conf.voters.length / 2)));
        const side = [l.id, ...others.slice(0, keep)];
        c.partition([side, others.slice(keep)]);
        fault('isolateLeader');
        trace?.(`  isolate leader ${side.join(',')} | ${others.slice(keep).join(',')}`);
        break;
      }
      case 'heal':
        if (c.blocked.size === 0) break;
        c.heal();
        fault('heal');
        break;
      case 'crash':
      case 'crashMidReady': {
        const up = c.upIds();
        // Keep a majority of the original voters' worth of nodes able to run most of the time.
        if (up.length <= Math.floor(voterCount / 2)) break;
        // Half the crashes hit the leader: that is where divergent logs come from.
        const l = c.leader();
        const id = l?.raft && prng.chance(0.5) ? l.id : prng.pick(up);
        fault(a);
        if (a === 'crashMidReady' && c.up(id)?.hasReady()) c.processReady(id, true);
        else c.crash(id);
        break;
      }
      case 'restart': {
        const down = [...c.nodes.values()].filter((n) => !n.raft && !n.retired);
        if (down.length === 0) break;
        fault('restart');
        c.restart(prng.pick(down).id);
        break;
      }
      case 'compact': {
        const id = randomUp();
        if (id === undefined) break;
        if (c.compact(id, prng.int(4))) fault('compact');
        break;
      }
      case 'membership':
        membership();
        break;
      case 'read': {
        const l = c.leader();
        const id = l && prng.chance(0.5) ? l.id : randomUp();
        if (id === undefined) break;
        trace?.(`  read r${nextRead} on ${id}`);
        c.readIndex(id, `r${nextRead++}`);
        maybeReady(id);
        break;
      }
      case 'transferLeader': {
        const l = c.leader();
        if (!l?.raft) break;
        const to = c.config.conf.voters.filter((v) => v !== l.id);
        if (to.length === 0) break;
        fault('transferLeader');
        const target = prng.pick(to);
        trace?.(`  transfer ${l.id} -> ${target}`);
        l.raft.transferLeader(target);
        maybeReady(l.id);
        break;
      }
    }
  };

  const membership = (): void => {
    const l = c.leader();
    if (!l?.raft) return;
    const conf = c.config.conf;
    // A caught-up learner is promoted (the leader refuses learners that are behind).
    const st = l.raft.status();
    const ready = conf.learners.filter((id) => (st.progress?.[id]?.match ?? 0) >= st.commit);
    const choice = ready.length > 0 && prng.chance(0.8) ? 1 : prng.int(3);
    if (choice === 0 && conf.voters.length + conf.learners.length < 7) {
      const id = nextId++;
      if (c.proposeConfChange(l.id, { type: 'addLearner', nodeId: id })) {
        fault('addLearner');
        trace?.(`  add learner ${id}`);
      }
    } else if (choice === 1 && conf.learners.length > 0) {
      const id = prng.pick(ready.length > 0 ? ready : conf.learners);
      if (c.proposeConfChange(l.id, { type: 'addNode', nodeId: id })) {
        fault('promote');
        trace?.(`  promote ${id}`);
      }
    } else if (choice === 2 && conf.voters.length > 3) {
      const id = prng.pick(conf.voters.filter((v) => v !== l.id));
      if (c.proposeConfChange(l.id, { type: 'removeNode', nodeId: id })) {
        fault('remove');
        pendingRemoval.add(id);
        trace?.(`  remove ${id}`);
      }
    }
    maybeReady(l.id);
  };

  /** A removed node stops once the membership without it is applied. */
  const retireRemoved = (): void => {
    if (pendingRemoval.size === 0) return;
    const conf = c.config.conf;
    for (const id of pendingRemoval) {
      if (!conf.voters.includes(id) && !conf.learners.includes(id)) {
        pendingRemoval.delete(id);
        c.retire(id);
      }
    }
  };

  try {
    for (step = 1; step <= opts.steps; step++) {
      doStep();
      retireRemoved();
      while (c.network.length > MAX_IN_FLIGHT) c.dropAt(0);
    }
    step = opts.steps + 1;
    result.recoveryTicks = recover(c, retireRemoved, trace);
  } catch (err) {
    // The core throwing (etcd-style panics such as "commit beyond last index") is a failure
    // of the schedule too, reported with its seed like a violated invariant.
    if (err instanceof InvariantViolation) result.violation = { step, message: err.message, invariant: err.invariant };
    else {
      const e = err as Error;
      const where =
        e.stack
          ?.split('\n')
          .find((l) => l.includes('lib/cluster/raft/'))
          ?.trim() ?? '';
      result.violation = { step, message: `Core error: ${e.message} ${where}`, invariant: 'Core error' };
    }
  }
  result.steps = Math.min(step, opts.steps);
  result.elections = c.counts.elections;
  result.commits = c.counts.commits;
  result.checks = c.checker.checks;
  result.acked = c.acked.size;
  result.snapshotsSent = c.counts.snapshotsSent;
  result.messagesDelivered = c.counts.messagesDelivered;
  result.reads = c.counts.reads;
  return result;
}

/**
 * Faults stop: heal, restart everyone, deliver every message, tick all nodes. Within
 * RECOVERY_TICKS a leader must exist and every member must have applied every acknowledged
 * proposal. Returns the ticks it took.
 */
function recover(c: SimCluster, retireRemoved: () => void, trace?: (line: string) => void): number {
  c.heal();
  for (const n of c.nodes.values()) if (!n.raft && !n.retired) c.restart(n.id);
  trace?.('recovery: healed, all nodes restarted');
  for (let t = 0; t <= RECOVERY_TICKS; t++) {
    for (let round = 0; round < 100; round++) {
      c.drainReadies();
      if (c.network.length === 0) break;
      const batch = c.network;
      c.network = [];
      for (const m of batch) c.deliver(m);
      retireRemoved();
    }
    if (c.leader() && everyoneApplied(c)) return t;
    for (const id of c.upIds()) c.tick(id);
  }
  const l = c.leader();
  const lagging = c.members().filter((id) => !appliedAll(c, id));
  const progress = l?.raft?.status().progress ?? {};
  const detail = lagging.map((id) => {
    const s = c.up(id)?.status();
    const p = progress[id];
    return `${id} (${s?.role} term ${s?.term} commit ${s?.commit} applied ${c.node(id).sm.length}; leader sees ${p ? `${p.state} match ${p.match} next ${p.next} inflight ${p.inflight}` : 'no progress'})`;
  });
  throw new InvariantViolation(
    'Liveness after faults stop',
    `after ${RECOVERY_TICKS} ticks of a healed network: leader ${l ? `${l.id} (term ${l.leaderTerm}, commit ${l.raft?.status().commit})` : 'none'}, members ${c.members().join(',')}; not applying every acknowledged proposal: ${detail.join(', ') || 'none'}`,
  );
}

function appliedAll(c: SimCluster, id: NodeId): boolean {
  const n = c.node(id);
  if (!n.raft) return false;
  const have = new Set(n.sm);
  for (const k of c.acked) if (!have.has(k)) return false;
  return true;
}

function everyoneApplied(c: SimCluster): boolean {
  return c.members().every((id) => appliedAll(c, id));
}

function shuffle<T>(prng: Prng, items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
