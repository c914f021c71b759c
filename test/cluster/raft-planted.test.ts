/**
 * The checker must be able to fail: each test-only bug switch of the core (types.ts TestBugs)
 * plants a known safety bug, and the simulation must find a violation within the CI budget.
 * A catch counts only when the same seed without the bug runs clean. sendBeforePersist is
 * caught first by a Ready-contract check (applied ≤ persisted commit, committed entries durable
 * on a quorum); a second pass switches those off and ignores schedules where the core itself
 * panics, to show that the paper's end-to-end properties (§5.2–5.4) catch it too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestBugs } from '../../lib/cluster/raft/index.ts';
import { describeFailure, runMany } from './harness/run-many.ts';
import { runSchedule, type ScheduleResult } from './harness/scheduler.ts';

const BUDGET = 2000;
const STEPS = 500;
const BASE = Number(process.env.RAFT_BASE_SEED ?? 20261201);
const END_TO_END = new Set([
  'Election Safety',
  'Log Matching',
  'Leader Completeness',
  'State Machine Safety',
  'Committed entries never change',
]);

const planted: Array<{ bug: keyof TestBugs; what: string }> = [
  {
    bug: 'commitPreviousTermByCount',
    what: 'a leader that commits a previous-term entry by counting replicas (paper Figure 8)',
  },
  { bug: 'doubleVote', what: 'a node that grants two votes in one term' },
  { bug: 'sendBeforePersist', what: 'a node that sends messages before persisting what they promise' },
];

const skip = process.env.SEED !== undefined;

/**
 * A catch counts only if the checker reported it (not the core panicking on its own) and the
 * same schedule without the bug is clean (the bug caused it).
 */
function causedByBug(r: ScheduleResult): boolean {
  return (
    r.violation !== undefined &&
    r.violation.invariant !== 'Core error' &&
    runSchedule(r.seed, { steps: STEPS }).violation === undefined
  );
}

for (const { bug, what } of planted) {
  test(`the simulation catches ${what} within ${BUDGET} schedules`, { skip }, () => {
    const t = runMany({ base: BASE, count: BUDGET, steps: STEPS, testBugs: { [bug]: true }, stopAt: causedByBug });
    const f = t.failures.at(-1);
    assert.ok(
      f && t.schedules <= BUDGET && causedByBug(f),
      `${bug}: no violation in ${t.schedules} schedules (${t.steps} steps)`,
    );
    console.log(
      `${bug}: caught after ${t.schedules} schedules (${t.steps} steps, ${(t.ms / 1000).toFixed(1)} s): ${describeFailure(f)}`,
    );
  });

  if (bug !== 'sendBeforePersist') continue;
  test(`the paper's end-to-end safety properties alone catch ${what}`, { skip }, () => {
    const t = runMany({
      base: BASE,
      count: BUDGET,
      steps: STEPS,
      testBugs: { [bug]: true },
      contractChecks: false,
      stopAt: (r) => END_TO_END.has(r.violation?.invariant ?? '') && causedByBug(r),
    });
    const f = t.failures.at(-1);
    const panics = t.failures.filter((r) => r.violation?.invariant === 'Core error').length;
    assert.ok(
      f && END_TO_END.has(f.violation?.invariant ?? ''),
      `${bug}: no end-to-end violation in ${t.schedules} schedules (${panics} ended in a core panic)`,
    );
    console.log(
      `${bug} (end-to-end properties only): ${f.violation?.invariant} after ${t.schedules} schedules (${panics} earlier schedules ended in a core panic): ${f.violation?.message}`,
    );
  });
}
