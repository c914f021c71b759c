// The register linearizability checker the cluster read tests rely on: it accepts histories
// that have a linearization and names each kind of read that has none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegisters, type RegisterRead, type RegisterWrite } from './helpers/register-check.ts';

const w = (value: number, start: number, end: number, acked = true): RegisterWrite => ({
  key: 'k',
  value,
  start,
  end,
  acked,
});
const r = (value: number, start: number, end: number): RegisterRead => ({ key: 'k', value, start, end, node: 'n1' });
const kinds = (ws: RegisterWrite[], rs: RegisterRead[]) => checkRegisters(ws, rs).map((v) => v.kind);

test('the register check accepts reads that overlap a write returning either value, and reads of an absent key', () => {
  const ws = [w(1, 0, 10), w(2, 20, 30)];
  assert.deepEqual(kinds(ws, [r(0, -5, -1), r(1, 11, 19), r(1, 25, 26), r(2, 25, 27), r(2, 31, 40)]), []);
});

test('the register check flags a read older than a write acknowledged before it was sent', () => {
  assert.deepEqual(kinds([w(1, 0, 10), w(2, 20, 30)], [r(1, 31, 40)]), ['stale']);
  assert.deepEqual(kinds([w(1, 0, 10)], [r(0, 11, 12)]), ['stale']);
});

test('the register check flags a value whose write was sent after the read was answered, and a value never written', () => {
  assert.deepEqual(kinds([w(1, 0, 10), w(2, 20, 30)], [r(2, 11, 19)]), ['early']);
  assert.deepEqual(kinds([w(1, 0, 10)], [r(7, 11, 19)]), ['unwritten']);
});

test('the register check flags a read older than a read answered before it was sent', () => {
  const ws = [w(1, 0, 10), w(2, 20, 30)];
  // Both overlap the second write, so each alone is fine; in this order they are not.
  assert.deepEqual(kinds(ws, [r(2, 21, 22), r(1, 23, 24)]), ['non-monotonic']);
  assert.deepEqual(kinds(ws, [r(2, 21, 24), r(1, 23, 25)]), []);
});

test('the register check lets a write of unknown outcome take effect late or never', () => {
  const ws = [w(1, 0, 10), w(2, 20, 30, false)];
  assert.deepEqual(kinds(ws, [r(1, 40, 41), r(2, 50, 51)]), []);
  assert.deepEqual(kinds(ws, [r(2, 40, 41), r(1, 50, 51)]), ['non-monotonic']);
});
