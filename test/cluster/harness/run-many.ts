/** Runs many schedules and adds up what they did, for the CI run, the soak and the planted bugs. */
import type { TestBugs } from '../../../lib/cluster/raft/index.ts';
import {
  FAULT_KINDS,
  RECOVERY_TICKS,
  runSchedule,
  scheduleSeed,
  type FaultKind,
  type ScheduleResult,
} from './scheduler.ts';

export interface Totals {
  schedules: number;
  steps: number;
  faults: Record<FaultKind, number>;
  elections: number;
  commits: number;
  checks: number;
  proposals: number;
  acked: number;
  maxRecoveryTicks: number;
  snapshotsSent: number;
  messagesDelivered: number;
  reads: number;
  clusters: { voters3: number; voters5: number; preVote: number; checkQuorum: number };
  failures: ScheduleResult[];
  ms: number;
}

export interface RunOptions {
  base: number;
  count: number;
  steps: number;
  testBugs?: TestBugs;
  contractChecks?: boolean;
  /** Stop at the first violation this accepts (planted bugs). */
  stopAt?: (r: ScheduleResult) => boolean;
  /** Progress callback every `every` schedules (the soak prints it). */
  progress?: (t: Totals) => void;
  every?: number;
}

export function emptyTotals(): Totals {
  return {
    schedules: 0,
    steps: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    elections: 0,
    commits: 0,
    checks: 0,
    proposals: 0,
    acked: 0,
    maxRecoveryTicks: 0,
    snapshotsSent: 0,
    messagesDelivered: 0,
    reads: 0,
    clusters: { voters3: 0, voters5: 0, preVote: 0, checkQuorum: 0 },
    failures: [],
    ms: 0,
  };
}

export function addResult(t: Totals, r: ScheduleResult): void {
  t.schedules++;
  t.steps += r.steps;
  for (const k of FAULT_KINDS) t.faults[k] += r.faults[k];
  t.elections += r.elections;
  t.commits += r.commits;
  t.checks += r.checks;
  t.proposals += r.proposals;
  t.acked += r.acked;
  t.maxRecoveryTicks = Math.max(t.maxRecoveryTicks, r.recoveryTicks);
  t.snapshotsSent += r.snapshotsSent;
  t.messagesDelivered += r.messagesDelivered;
  t.reads += r.reads;
  if (r.voters === 3) t.clusters.voters3++;
  else t.clusters.voters5++;
  if (r.preVote) t.clusters.preVote++;
  if (r.checkQuorum) t.clusters.checkQuorum++;
  if (r.violation) t.failures.push(r);
}

export function runMany(o: RunOptions): Totals {
  const t = emptyTotals();
  const start = performance.now();
  for (let i = 0; i < o.count; i++) {
    const r = runSchedule(scheduleSeed(o.base, i), {
      steps: o.steps,
      testBugs: o.testBugs,
      contractChecks: o.contractChecks,
    });
    addResult(t, r);
    if (o.progress && o.every && (i + 1) % o.every === 0) {
      t.ms = performance.now() - start;
      o.progress(t);
    }
    if (r.violation && o.stopAt?.(r)) break;
  }
  t.ms = performance.now() - start;
  return t;
}

const n = (x: number): string => x.toLocaleString('en-US');

export function formatTotals(t: Totals): string {
  const faults = Object.entries(t.faults)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return [
    `schedules ${n(t.schedules)} (3 voters ${n(t.clusters.voters3)}, 5 voters ${n(t.clusters.voters5)}; PreVote ${n(t.clusters.preVote)}, CheckQuorum ${n(t.clusters.checkQuorum)}), steps ${n(t.steps)}, ${(t.ms / 1000).toFixed(1)} s`,
    `faults injected ${n(Object.values(t.faults).reduce((a, b) => a + b, 0))}: ${faults}`,
    `elections ${n(t.elections)}, commits ${n(t.commits)}, proposals ${n(t.proposals)} (acknowledged ${n(t.acked)}), linearizable reads ${n(t.reads)}, messages delivered ${n(t.messagesDelivered)}, snapshots sent ${n(t.snapshotsSent)}`,
    `invariant checks ${n(t.checks)}, slowest recovery after the faults ${t.maxRecoveryTicks} ticks (bound ${RECOVERY_TICKS})`,
    `violations ${t.failures.length}`,
  ].join('\n');
}

export function describeFailure(r: ScheduleResult): string {
  const v = r.violation;
  const when = v && v.step > r.steps ? `in the recovery after step ${r.steps}` : `at step ${v?.step}`;
  const bug = r.bug ? `RAFT_BUG=${r.bug} ` : '';
  return `seed ${r.seed} (${r.voters} voters, preVote=${r.preVote}, checkQuorum=${r.checkQuorum}${r.bug ? `, bug ${r.bug}` : ''}) failed ${when}: ${v?.message}\n  replay: ${bug}SEED=${r.seed} npm run test:raft`;
}
