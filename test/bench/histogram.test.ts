// The latency histogram: quantiles within 1% of the exact ones over wide ranges of values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../../lib/bench/histogram.ts';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

test('quantiles are within 1% of the exact values from 50 µs to 60 s', () => {
  const h = new Histogram();
  const values: number[] = [];
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 100_000; i++) {
    const ms = 0.05 * Math.exp(rnd() * Math.log(60_000 / 0.05)); // log-uniform 50 µs .. 60 s
    values.push(Math.round(ms * 1000) / 1000);
    h.recordMs(ms);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) {
    const exact = exactQuantile(values, q);
    const got = h.quantileMs(q);
    assert.ok(Math.abs(got - exact) / exact <= 0.01, `q=${q}: ${got} vs ${exact}`);
  }
  const s = h.summary();
  assert.equal(s.count, 100_000);
  assert.equal(s.min, values[0]);
  assert.equal(s.max, values[values.length - 1]);
});

test('a single value is reported exactly at every quantile', () => {
  const h = new Histogram();
  h.recordMs(12.345);
  assert.deepEqual([h.quantileMs(0), h.quantileMs(0.5), h.quantileMs(1)], [12.345, 12.345, 12.345]);
});

test('an empty histogram reports zeros and merging adds counts', () => {
  const a = new Histogram();
  assert.equal(a.summary().p99, 0);
  const b = new Histogram();
  for (let i = 1; i <= 100; i++) (i <= 50 ? a : b).recordMs(i);
  a.merge(b);
  assert.equal(a.count, 100);
  assert.ok(Math.abs(a.quantileMs(0.5) - 50) <= 0.5);
  assert.equal(a.summary().max, 100);
});
