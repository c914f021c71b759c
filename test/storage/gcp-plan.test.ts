// Multipart Complete on GCS: compose takes at most 32 sources, so more parts are composed in
// rounds through temporaries. The plan is a pure function; running it on strings here shows
// every call stays within the limit and the result keeps the parts' order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_COMPOSE_SOURCES, planCompose, type ComposeStep } from '../../lib/storage/gcp.ts';

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `part-${i}`);
}

function tempNamer(): () => string {
  let n = 0;
  return () => `tmp-${n++}`;
}

/** Runs a plan over string "objects" the way GCS would: each step concatenates its sources. */
function run(steps: ComposeStep[], sources: readonly string[]): Map<string, string[]> {
  const objects = new Map(sources.map((s) => [s, [s]]));
  for (const step of steps) {
    assert.ok(
      step.sources.length >= 1 && step.sources.length <= MAX_COMPOSE_SOURCES,
      `${step.sources.length} sources in one call`,
    );
    objects.set(
      step.target,
      step.sources.flatMap((s) => {
        const o = objects.get(s);
        assert.ok(o, `${s} is used before it exists`);
        return o;
      }),
    );
  }
  return objects;
}

test('up to 32 parts are one compose call straight into the target', () => {
  for (const n of [1, 2, 31, 32]) {
    assert.deepEqual(planCompose('final', names(n), tempNamer()), [{ target: 'final', sources: names(n) }]);
  }
});

test('33 parts compose the first two into a temporary, then it and the other 31 into the target', () => {
  assert.deepEqual(planCompose('final', names(33), tempNamer()), [
    { target: 'tmp-0', sources: ['part-0', 'part-1'] },
    { target: 'final', sources: ['tmp-0', ...names(33).slice(2)] },
  ]);
});

test('no parts plan no compose call', () => {
  assert.deepEqual(planCompose('final', [], tempNamer()), []);
});

test('any number of parts up to 10,000 ends in the target with every part once, in order', () => {
  for (const n of [3, 64, 65, 1000, 1024, 1025, 5000, 10_000]) {
    const sources = names(n);
    const steps = planCompose('final', sources, tempNamer());
    assert.equal(steps.at(-1)!.target, 'final');
    assert.deepEqual(run(steps, sources).get('final'), sources, `${n} parts`);
  }
});

test('the calls grow as a tree: 10,000 parts take 324 compose calls in three rounds', () => {
  const steps = planCompose('final', names(10_000), tempNamer());
  // 313 groups of the parts, 10 groups of those, and the final call.
  assert.equal(steps.length, 313 + 10 + 1);
});

test('every temporary has its own name and only the last step writes the target', () => {
  const steps = planCompose('final', names(2000), tempNamer());
  const temps = steps.slice(0, -1).map((s) => s.target);
  assert.equal(new Set(temps).size, temps.length);
  assert.ok(!temps.includes('final'));
});

test('a smaller limit is honoured too', () => {
  const sources = names(10);
  const steps = planCompose('final', sources, tempNamer(), 3);
  for (const s of steps) assert.ok(s.sources.length <= 3);
  assert.deepEqual(run(steps, sources).get('final'), sources);
});
