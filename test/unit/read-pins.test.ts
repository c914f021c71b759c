// lib/storage/read-pins.ts: a cloud blob being read is removed only after its last reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadPins } from '../../lib/storage/read-pins.ts';

test('removing a blob nobody reads happens at once', async () => {
  const pins = new ReadPins();
  const removed: string[] = [];
  await pins.remove('a', async () => void removed.push('a'));
  assert.deepEqual(removed, ['a']);
});

test('removing a blob being read waits for its last reader, and a second release changes nothing', async () => {
  const pins = new ReadPins();
  const removed: string[] = [];
  const first = pins.pin('a');
  const second = pins.pin('a');
  await pins.remove('a', async () => void removed.push('a'));
  assert.deepEqual(removed, [], 'not while two readers hold it');
  first();
  first();
  assert.deepEqual(removed, [], 'not while one reader holds it, however often the other releases');
  second();
  assert.deepEqual(removed, ['a']);
  assert.equal(pins.reading, 0);
  const again = pins.pin('a');
  again();
  assert.deepEqual(removed, ['a'], 'a later reader does not remove it again');
});

test('a failed deferred removal is swallowed (the orphan sweep removes what is left)', async () => {
  const pins = new ReadPins();
  const release = pins.pin('b');
  await pins.remove('b', () => Promise.reject(new Error('upstream down')));
  release();
  await new Promise((r) => setImmediate(r));
});
