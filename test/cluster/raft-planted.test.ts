/**
 * The checker must be able to fail: each test-only bug switch of the core (types.ts TestBugs)
 * plants a known safety bug, and the simulation must find a violation within the CI budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestBugs } from '../../lib/cluster/raft/index.ts';
import { describeFailure, runMany } from './harness/run-many.ts';

const BUDGET = 2000;
const STEPS = 500;
const BASE = Number(process.env.RAFT_BASE_SEED ?? 20261201);

const planted: Array<{ bug: keyof TestBugs; what: string }> = [
  { bug: 'commitPreviousTermByCount', what: 'a leader that commits a previous-term entry by counting replicas (paper Figure 8)' },
  { bug: 'doubleVote', what: 'a node that grants two votes in one term' },
  { bug: 'sendBeforePersist', what: 'a node that sends messages before persisting what they promise' },
];

for (const { bug, what } of planted) {
  test(`the simulation catches ${what} within ${BUDGET} schedules`, { skip: process.env.SEED !== undefined }, () => {
    const t = runMany({ base: BASE, count: BUDGET, steps: STEPS, testBugs: { [bug]: true }, stopAtFirst: true });
    const f = t.failures[0];
    assert.ok(f, `${bug}: no violation in ${t.schedules} schedules (${t.steps} steps)`);
    console.log(`${bug}: caught after ${t.schedules} schedules, ${t.steps} steps, ${(t.ms / 1000).toFixed(1)} s: ${describeFailure(f)} RAFT_BUG=${bug}`);
  });
}
