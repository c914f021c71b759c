// Which blobs a command needs on a majority of nodes before it is proposed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referencedFiles } from '../../lib/cluster/replicated-store.ts';
import { type Command, InlineBytes } from '../../lib/metadata/commands.ts';

const ID = 'ab'.repeat(16);

test('referencedFiles finds the blob of an object, a part or a completed upload, and none of an inline object', () => {
  const put = (fileId: string) =>
    ({ type: 'object.put', object: { bucket: 'b', key: 'k', fileId, inline: null }, at: '' }) as unknown as Command;
  assert.deepEqual(referencedFiles(put(ID)), [ID]);
  assert.deepEqual(referencedFiles(put('')), []);
  const part = {
    type: 'upload.part',
    uploadId: 'u',
    part: { partNumber: 1, fileId: ID },
    at: '',
  } as unknown as Command;
  assert.deepEqual(referencedFiles(part), [ID]);
  const done = { type: 'upload.complete', uploadId: 'u', object: { fileId: ID }, at: '' } as unknown as Command;
  assert.deepEqual(referencedFiles(done), [ID]);
});

test('referencedFiles asks nothing for removals and deletes', () => {
  assert.deepEqual(referencedFiles({ type: 'gc.done', fileIds: [ID] }), []);
  assert.deepEqual(referencedFiles({ type: 'blob.remove', fileId: ID }), []);
  assert.deepEqual(referencedFiles({ type: 'object.delete', bucket: 'b', key: 'k', at: '' }), []);
});

test("referencedFiles does not look inside an inline object's bytes", () => {
  // A property on the byte array stands in for its 65,536 indices, which walking it would visit.
  const bytes = Object.assign(new Uint8Array(65_536), { fileId: ID });
  const cmd = {
    type: 'object.put',
    object: { bucket: 'b', key: 'k', fileId: '', inline: new InlineBytes(bytes) },
    at: '',
  } as unknown as Command;
  assert.deepEqual(referencedFiles(cmd), []);
});
