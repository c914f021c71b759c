// Commands as Raft log entries (lib/cluster/command-codec.ts): inline bytes travel raw after
// the JSON, entries in the older plain-JSON form still decode, and a damaged entry is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandCodecError, decodeCommand, encodeCommand } from '../../lib/cluster/command-codec.ts';
import { type Command, type ObjectRecord, objectRecord, objectRow } from '../../lib/metadata/commands.ts';
import type { ObjectRow } from '../../lib/metadata/types.ts';

const bytes = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 131 + 7) & 0xff));
const row = {
  bucket: 'b',
  key: 'k/ü',
  fileId: '',
  size: bytes.length,
  etag: '"e"',
  userMetadata: { colour: 'blue' },
  inline: bytes,
} as unknown as ObjectRow;
const put = { type: 'object.put', object: objectRecord(row), at: '2026-12-02T00:00:00.000Z' } as unknown as Command;
const objectOf = (c: Command) => (c as unknown as { object: ObjectRecord }).object;

test('a command entry carries its inline bytes raw, and decodes to the same row', () => {
  const entry = encodeCommand(put);
  const asJson = Buffer.byteLength(JSON.stringify(put));
  assert.ok(entry.byteLength < bytes.length + 400, `${entry.byteLength} bytes`);
  assert.ok(asJson > bytes.length * 1.33, `JSON would be ${asJson} bytes`);
  const back = decodeCommand(entry);
  const { inline, ...rest } = objectRow(objectOf(back));
  assert.deepEqual(inline, bytes);
  const { inline: _, ...want } = row;
  assert.deepEqual(rest, want);
  assert.equal((back as { at?: string }).at, '2026-12-02T00:00:00.000Z');
});

test('several inline byte arrays in one command come back in their places', () => {
  const a = Buffer.from('first');
  const b = Buffer.alloc(0);
  const c = Buffer.from('third, longer');
  const cmd = {
    type: 'test.many',
    list: [objectRecord({ ...row, inline: a }), objectRecord({ ...row, inline: b })],
    last: objectRecord({ ...row, inline: c }),
  } as unknown as Command;
  const back = decodeCommand(encodeCommand(cmd)) as unknown as { list: ObjectRecord[]; last: ObjectRecord };
  assert.deepEqual(
    [...back.list, back.last].map((o) => objectRow(o).inline?.toString()),
    ['first', '', 'third, longer'],
  );
});

test('a command entry written as plain JSON by an earlier version still decodes', () => {
  const entry = new TextEncoder().encode(JSON.stringify(put));
  assert.deepEqual(objectRow(objectOf(decodeCommand(entry))).inline, bytes);
  const none = { type: 'object.delete', bucket: 'b', key: 'k', at: '' } as unknown as Command;
  assert.deepEqual(decodeCommand(encodeCommand(none)), none);
});

test('a truncated command entry, or one naming bytes it lacks, is refused with CommandCodecError', () => {
  const entry = encodeCommand(put);
  for (const cut of [3, 20, entry.byteLength - 1]) {
    assert.throws(() => decodeCommand(entry.subarray(0, cut)), CommandCodecError, `cut at ${cut}`);
  }
  const json = Buffer.from('{"type":"object.put","object":{"inline":{"$bytes":1}}}');
  const lying = Buffer.concat([Buffer.from([1, 0, 0, 0, json.length]), json, Buffer.from([0, 0, 0, 1, 9])]);
  assert.throws(() => decodeCommand(lying), /missing bytes 1/);
});
