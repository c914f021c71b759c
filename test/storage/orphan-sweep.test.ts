// The orphan sweep runs while the server serves, so a blob committed to storage whose row is
// not written yet must survive it: ids generated after the sweep's watch began are spared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStorage } from '../../lib/storage/local.ts';
import { watchNewBlobIds } from '../../lib/storage/backend.ts';
import { storeBlob } from '../helpers/store-blob.ts';

test('the orphan sweep removes unreferenced blobs from before the watch and spares those born since', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-sweep-'));
  try {
    const storage = new LocalStorage(dir);
    await storage.init();
    const orphan = await storeBlob(storage, 'left by a crash');
    const referenced = await storeBlob(storage, 'has a row');
    const born = watchNewBlobIds();
    const inFlight = await storeBlob(storage, 'row not committed yet');
    const removed = await storage.sweepOrphans((id) => born.has(id) || id === referenced);
    born.release();
    assert.equal(removed, 1);
    assert.equal(await storage.exists(orphan), false);
    assert.equal(await storage.exists(referenced), true);
    assert.equal(await storage.exists(inFlight), true);
    // After release, ids are no longer remembered.
    const later = await storeBlob(storage, 'after');
    assert.equal(born.has(later), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
