// Inline object bytes inside a command (lib/metadata/commands.ts, InlineBytes): in this process
// and between its threads they travel as they are; written as JSON (the Raft log, a forwarded
// write, a queued task) they are base64 text, and every form reads back to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectRecord, objectRow } from '../../lib/metadata/commands.ts';
import type { ObjectRow } from '../../lib/metadata/types.ts';

const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff));
const row = { bucket: 'b', key: 'k', size: bytes.length, inline: bytes } as unknown as ObjectRow;

test('a command keeps inline bytes as they are in this process and reads them back without a copy', () => {
  const back = objectRow(objectRecord(row));
  assert.equal(back.inline, bytes);
});

test('a command written as JSON carries its inline bytes as base64 and reads them back exactly', () => {
  const json = JSON.stringify({ type: 'object.put', object: objectRecord(row) });
  const parsed = JSON.parse(json) as { object: { inline: unknown } };
  assert.equal(parsed.object.inline, bytes.toString('base64'));
  assert.deepEqual(objectRow(parsed.object as never).inline, bytes);
});

test('a command posted to another thread (structured clone) reads its inline bytes back exactly', () => {
  const cloned = structuredClone({ object: objectRecord(row) });
  const back = objectRow(cloned.object).inline!;
  assert.ok(Buffer.isBuffer(back));
  assert.deepEqual(back, bytes);
});
