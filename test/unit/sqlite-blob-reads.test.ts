// The sqlite backend keeps a blob's chunks in the metadata database and reads them one at a
// time, so removing the blob (an overwrite's clean-up) must wait for a read already under way:
// S3 serves a GET that began before an overwrite from the object it began with.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MetadataStore } from '../../lib/metadata/sqlite.ts';
import { FileMissingError } from '../../lib/storage/backend.ts';
import { SqliteBlobStorage } from '../../lib/storage/sqlite-blobs.ts';
import { storeBlob } from '../helpers/store-blob.ts';

test('a read of a sqlite blob under way gets every byte though the blob is removed meanwhile, and the removal follows it', async () => {
  const store = new MetadataStore({ path: ':memory:', durability: 'full' });
  const storage = new SqliteBlobStorage(store);
  const bytes = randomBytes(3 * 1024 * 1024 + 123);
  const id = await storeBlob(storage, bytes);

  const stream = await storage.openRead(id);
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.done, false);
  await storage.remove(id);
  const chunks: Buffer[] = [first.value as Buffer];
  for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value as Buffer);
  assert.equal(Buffer.concat(chunks).length, bytes.length, 'every byte, not the first chunk only');
  assert.ok(Buffer.concat(chunks).equals(bytes));
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50 && (await storage.exists(id)); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await storage.exists(id), false, 'removed once the read was done');

  // A blob nobody reads goes at once; one that is gone reads as missing.
  const other = await storeBlob(storage, Buffer.from('x'));
  await storage.remove(other);
  assert.equal(await storage.exists(other), false);
  await assert.rejects(storage.openRead(other), FileMissingError);
  store.close();
});
