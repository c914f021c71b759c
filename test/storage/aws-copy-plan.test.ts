// Which concatenations the aws gateway does with UploadPartCopy, and how it cuts the parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCopyParts } from '../../lib/storage/aws.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test('parts of at least 5 MiB, the last of any size, are copied whole, one part each', () => {
  assert.deepEqual(
    planCopyParts([
      { key: 'a', size: 5 * MiB },
      { key: 'b', size: 8 * MiB },
      { key: 'c', size: 1 },
    ]),
    [
      { key: 'a', size: 5 * MiB },
      { key: 'b', size: 8 * MiB },
      { key: 'c', size: 1 },
    ],
  );
});

test('a part under 5 MiB that is not the last one cannot be copied, so the plan declines', () => {
  assert.equal(
    planCopyParts([
      { key: 'a', size: 5 * MiB - 1 },
      { key: 'b', size: 5 * MiB },
    ]),
    false,
  );
});

test('empty sources add nothing and are left out, wherever they are', () => {
  assert.deepEqual(
    planCopyParts([
      { key: 'a', size: 0 },
      { key: 'b', size: 6 * MiB },
      { key: 'c', size: 0 },
      { key: 'd', size: 2 },
      { key: 'e', size: 0 },
    ]),
    [
      { key: 'b', size: 6 * MiB },
      { key: 'd', size: 2 },
    ],
  );
});

test('nothing to copy declines, so the caller writes the empty object itself', () => {
  assert.equal(planCopyParts([]), false);
  assert.equal(planCopyParts([{ key: 'a', size: 0 }]), false);
});

test('a source above 5 GiB is copied in byte ranges of at most 5 GiB that cover it exactly', () => {
  const size = 12 * GiB + 7;
  const parts = planCopyParts([
    { key: 'big', size },
    { key: 'tail', size: 3 },
  ]);
  assert.ok(parts);
  const ranges = parts.filter((p) => p.key === 'big').map((p) => p.range!);
  assert.equal(ranges.length, 3);
  assert.equal(ranges[0]!.start, 0);
  assert.equal(ranges.at(-1)!.end, size - 1);
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]!.start, ranges[i - 1]!.end + 1);
  for (const r of ranges) assert.ok(r.end - r.start + 1 <= 5 * GiB);
  assert.deepEqual(parts.at(-1), { key: 'tail', size: 3 });
});

test('more than 10,000 parts declines', () => {
  const many = Array.from({ length: 10_001 }, (_, i) => ({ key: `p${i}`, size: 5 * MiB }));
  assert.equal(planCopyParts(many), false);
  assert.ok(planCopyParts(many.slice(1)));
});
